" For each file in the argument list, writes the name of the syntax group at every byte of every
" line (`synIDattr(synID(l, c, 1), "name")`), for the Vim/Neovim tests. Output (g:lp_out):
"   FILE <path> <filetype> <b:current_syntax>
"   OPTIONS <commentstring>|<comments>|<shiftwidth>|<expandtab> (set by ftplugin/lp.vim)
"   one line per source line: the names of its bytes, separated by single spaces
let s:out = []
for s:file in argv()
  execute 'edit' fnameescape(s:file)
  call add(s:out, 'FILE ' . s:file . ' ' . &filetype . ' ' . get(b:, 'current_syntax', '-'))
  call add(s:out, 'OPTIONS ' . &commentstring . '|' . &comments . '|' . &shiftwidth . '|' . &expandtab)
  for s:l in range(1, line('$'))
    let s:names = []
    for s:c in range(1, len(getline(s:l)))
      call add(s:names, synIDattr(synID(s:l, s:c, 1), 'name'))
    endfor
    call add(s:out, join(s:names, ' '))
  endfor
endfor
call writefile(s:out, g:lp_out)
qall!
