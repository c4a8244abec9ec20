" Indentation of `.lp` files: `lpc fmt`'s layout, one 'shiftwidth' per open bracket.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal nocindent nosmartindent autoindent
setlocal indentexpr=GetLpIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O,e

let b:undo_indent = 'setlocal cindent< smartindent< autoindent< indentexpr< indentkeys<'

if exists('*GetLpIndent')
  finish
endif

" A line without its strings and `//` comments, so their brackets do not count.
function! s:Code(line) abort
  let line = substitute(a:line, '"\%(\\.\|[^"\\]\)*"', '""', 'g')
  return substitute(line, '//.*$', '', '')
endfunction

function! GetLpIndent(lnum) abort
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  " Inside a block comment: keep the indentation as it is.
  if synIDattr(synID(a:lnum, max([1, indent(a:lnum)]), 1), 'name') ==# 'lpBlockComment'
    return indent(a:lnum)
  endif
  let code = s:Code(getline(prev))
  let leading = strlen(matchstr(code, '^\s*[})\]]*')) - strlen(matchstr(code, '^\s*'))
  let opens = strlen(substitute(code, '[^{(\[]', '', 'g'))
  let closes = strlen(substitute(code, '[^})\]]', '', 'g')) - leading
  let ind = indent(prev) + shiftwidth() * (opens - closes)
  if getline(a:lnum) =~# '^\s*[})\]]'
    let ind -= shiftwidth()
  endif
  return max([ind, 0])
endfunction
