" Launchpad-for-Rust topology files.
autocmd BufRead,BufNewFile *.lp setfiletype lp
