" Re-indents each file in the argument list with `gg=G` (indent/lp.vim) and writes, per file,
" the lines that changed (g:lp_out):  FILE <path> <count>, then `<line>: <new text>` lines.
let s:out = []
for s:file in argv()
  execute 'edit!' fnameescape(s:file)
  let s:before = getline(1, '$')
  silent normal! gg=G
  let s:after = getline(1, '$')
  let s:changed = []
  for s:i in range(len(s:before))
    if s:before[s:i] !=# get(s:after, s:i, '')
      call add(s:changed, (s:i + 1) . ': ' . get(s:after, s:i, ''))
    endif
  endfor
  call add(s:out, 'FILE ' . s:file . ' ' . len(s:changed))
  call extend(s:out, s:changed)
  setlocal nomodified
endfor
call writefile(s:out, g:lp_out)
qall!
