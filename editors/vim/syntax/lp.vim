" Vim syntax file
" Language:   Launchpad-for-Rust topology (.lp)
" Maintainer: the lp project (editors/vim)
" The keywords are those of grammar/lp.pest; a test keeps them in sync.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
syn iskeyword @,48-57,_,192-255

" Comments: `//`, `///` (documentation, not `////`), `/* */` nesting as in Rust.
syn keyword lpTodo contained TODO FIXME XXX NOTE
syn match   lpComment      "//.*$" contains=lpTodo,@Spell
syn match   lpDocComment   "///\%(/\)\@!.*$" contains=lpTodo,@Spell
syn region  lpBlockComment start="/\*" end="\*/" contains=lpBlockComment,lpTodo,@Spell fold extend

" Literals.
syn region  lpString       start=+"+ skip=+\\\\\|\\"+ end=+"+ contains=lpEscape,lpEscapeError,@Spell
syn match   lpEscapeError  contained "\\."
syn match   lpEscape       contained +\\\%(u{\x\{1,6}}\|x[0-7]\x\|[nrt\\0'"]\|$\)+
syn match   lpNumber       "\<\d[0-9_]*\>"
syn match   lpNumber       "\<0x\x[0-9a-fA-F_]*\>"
syn match   lpNumber       "\<0o\o[0-7_]*\>"
syn match   lpNumber       "\<0b[01][01_]*\>"
syn match   lpFloat        "\<\d[0-9_]*\%(\.\d[0-9_]*\%([eE][+-]\=\d[0-9_]*\)\=\|[eE][+-]\=\d[0-9_]*\)\>"
syn match   lpDuration     "\<\d[0-9_]*\%(ms\|s\|m\|h\)\>" contains=lpDurationUnit
syn match   lpDurationUnit contained "\%(ms\|s\|m\|h\)\>"
" Keywords, as matches rather than `syn keyword`s (a keyword beats every match at its column): a
" keyword followed by `:` or `::` is a name, an argument, field or path segment (`node: 1`,
" `batch: 2`, `crate::batch::run`).
syn match   lpBoolean      "\<\%(true\|false\)\>\%(\s*:\)\@!"
syn match   lpReplica      "\<\%(replicas\|replica\)\>\%(\s*:\)\@!"

" Items and their names: `program NAME`, `param NAME: TYPE`, `node NAME`, `group NAME[`, ….
syn match   lpItem         "\<program\>\%(\s*:\)\@!" nextgroup=lpProgramName skipwhite skipempty
syn match   lpItem         "\<param\>\%(\s*:\)\@!" nextgroup=lpParamName skipwhite skipempty
syn match   lpItem         "\<\%(node\|group\)\>\%(\s*:\)\@!" nextgroup=lpNodeName skipwhite skipempty
syn match   lpItem         "\<process\>\%(\s*:\)\@!" nextgroup=lpProcessName skipwhite skipempty
syn match   lpKind         "\<\%(courier\|worker\|fn\)\>\%(\s*:\)\@!"
syn match   lpBatch        "\<batch\>\%(\s*:\)\@!" nextgroup=lpMethodName skipwhite

syn match   lpProgramName  contained "\h\w*"
syn match   lpParamName    contained "\h\w*" nextgroup=lpParamColon skipwhite
syn match   lpParamColon   contained ":" nextgroup=lpParamType skipwhite
syn match   lpParamType    contained "\h\w*"
syn match   lpNodeName     contained "\h\w*"
syn match   lpProcessName  contained "\h\w*"
syn match   lpMethodName   contained "\h\w*"

" Paths: `crate::nodes::Producer::new(`.
syn match   lpType         "\<\u\w*\>"
syn match   lpNamespace    "\<\l\w*\ze\s*::"
syn match   lpCrate        "\<crate\>\%(\s*:\%(:\)\@!\)\@!"
syn match   lpFunction     "\<\h\w*\ze\s*("
syn match   lpPathSep      "::"

" `use a::b::{C, d as E};`: what it imports (a path's last segment, an alias) is a type when
" capitalized, else a function (run by `fn` nodes), as where it is used.
syn region  lpUse          matchgroup=lpInclude start="\<use\>\%(\s*:\)\@!" end="\ze;" end="\ze\<\%(use\|program\)\>" transparent contains=lpComment,lpDocComment,lpBlockComment,lpCrate,lpNamespace,lpPathSep,lpType,lpUseFunction,lpInclude,lpDelimiter
syn match   lpInclude      contained "\<as\>" nextgroup=lpTypeName,lpUseFunction skipwhite skipempty
syn match   lpTypeName     contained "\<\u\w*"
syn match   lpUseFunction  contained "\<\%(as\>\)\@!\%(\l\|_\)\w*\>\%(\s*::\)\@!"

" `name:` in argument lists and block fields (not `a::b`).
syn match   lpArgName      "\<\h\w*\ze\s*:\%(:\)\@!"
" `resources {` and `env {` in a node's block.
syn match   lpSection      "\<\h\w*\ze\s*{"

syn match   lpOperator     "[-+*%=]"
syn match   lpOperator     "/\%([/*]\)\@!"
syn match   lpDelimiter    "[;,]"

" Braces fold (`:set foldmethod=syntax`).
syn region  lpBraces       start="{" end="}" transparent fold

syn sync minlines=200

hi def link lpTodo          Todo
hi def link lpComment       Comment
hi def link lpDocComment    SpecialComment
hi def link lpBlockComment  Comment
hi def link lpString        String
hi def link lpEscape        SpecialChar
hi def link lpEscapeError   Error
hi def link lpNumber        Number
hi def link lpFloat         Float
hi def link lpDuration      Number
hi def link lpDurationUnit  Special
hi def link lpBoolean       Boolean
hi def link lpReplica       Constant
hi def link lpInclude       Include
hi def link lpItem          Keyword
hi def link lpKind          StorageClass
hi def link lpBatch         Keyword
hi def link lpProgramName   Structure
hi def link lpParamName     Identifier
hi def link lpParamColon    Delimiter
hi def link lpParamType     Type
hi def link lpNodeName      Identifier
hi def link lpProcessName   Identifier
hi def link lpMethodName    Function
hi def link lpTypeName      Type
hi def link lpCrate         Keyword
hi def link lpType          Type
hi def link lpNamespace     Include
hi def link lpFunction      Function
hi def link lpUseFunction   Function
hi def link lpPathSep       Delimiter
hi def link lpArgName       Identifier
hi def link lpSection       Label
hi def link lpOperator      Operator
hi def link lpDelimiter     Delimiter

let b:current_syntax = 'lp'

let &cpo = s:cpo_save
unlet s:cpo_save
