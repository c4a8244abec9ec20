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

" A line without its strings, `//` comments and `/* */` comments (one left open runs to the end of
" the line), so their brackets do not count.
function! s:Code(line) abort
  let line = substitute(a:line, '"\%(\\.\|[^"\\]\)*"', '""', 'g')
  let line = substitute(line, '//.*$', '', '')
  let line = substitute(line, '/\*.\{-}\*/', '', 'g')
  return substitute(line, '/\*.*$', '', '')
endfunction

" Whether line `lnum` starts inside a block comment opened on an earlier line (its first
" character is in a comment, and is not the `/*` of a comment that opens there, at depth one).
function! s:ContinuesComment(lnum) abort
  let col = indent(a:lnum) + 1
  let stack = map(synstack(a:lnum, col), 'synIDattr(v:val, "name")')
  let depth = len(filter(copy(stack), 'v:val ==# "lpBlockComment"'))
  if depth == 0
    return 0
  endif
  return !(depth == 1 && strpart(getline(a:lnum), col - 1, 2) ==# '/*')
endfunction

function! GetLpIndent(lnum) abort
  " Inside a block comment: keep the indentation as it is.
  if synIDattr(synID(a:lnum, max([1, indent(a:lnum)]), 1), 'name') ==# 'lpBlockComment'
    return indent(a:lnum)
  endif
  " The line to follow: the previous one, or where the block comment it ends in opened.
  let prev = prevnonblank(a:lnum - 1)
  while prev > 0 && s:ContinuesComment(prev)
    let prev = prevnonblank(prev - 1)
  endwhile
  if prev == 0
    return 0
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
