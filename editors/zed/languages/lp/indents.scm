; Zed-only: one level per open bracket, as `lpc fmt` lays out.

(_ "{" "}" @end) @indent
(_ "(" ")" @end) @indent
(_ "[" "]" @end) @indent
