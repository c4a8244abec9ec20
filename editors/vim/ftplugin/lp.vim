" Launchpad-for-Rust `.lp` files: comments, 4-space indentation (indent/lp.vim), brackets.
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal comments=s0:/*,mb:\ *,ex:*/,:///,://
setlocal commentstring=//\ %s
setlocal formatoptions-=t formatoptions+=croqnl
setlocal expandtab shiftwidth=4 softtabstop=4
setlocal matchpairs=(:),{:},[:]
setlocal suffixesadd=.lp

let b:undo_ftplugin = 'setlocal comments< commentstring< formatoptions< expandtab< shiftwidth<'
      \ . ' softtabstop< matchpairs< suffixesadd<'
