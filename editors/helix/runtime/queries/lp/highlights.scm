; Generated from editors/tree-sitter-lp/queries/highlights.scm, with this editor's capture
; names, by editors/tests/tests/editor_queries.rs: edit the source, then run
; UPDATE_EDITOR_QUERIES=1 cargo test -p lp-editors --test editor_queries

; Highlights for `.lp` files. The patterns never capture the same node twice, so the result is the
; same whichever pattern wins in an editor (first in Helix and tree-sitter-highlight, last in
; Neovim). Capture names follow nvim-treesitter's list.

; Comments
(line_comment) @comment
(block_comment) @comment
(doc_comment) @comment.line.documentation

; Literals
(string) @string
(escape_sequence) @constant.character.escape
(integer) @constant.numeric.integer
(duration) @constant.numeric.integer
(float) @constant.numeric.float
(boolean) @constant.builtin.boolean
(replica) @variable.builtin
(replicas) @variable.builtin

; Keywords
[
  "use"
  "as"
] @keyword.control.import

[
  "program"
  "param"
  "node"
  "group"
  "process"
  "batch"
] @keyword

[
  "courier"
  "worker"
  "fn"
] @keyword.storage.modifier

; Declarations
(program
  name: (identifier) @type)

(param_declaration
  name: (identifier) @variable.parameter)

(param_declaration
  type: (identifier) @type.builtin)

(node_declaration
  name: (identifier) @variable)

(group_declaration
  name: (identifier) @variable)

(process_declaration
  name: (identifier) @namespace)

; Rust paths: `crate::nodes::Producer::new`
(scoped_identifier
  path: (identifier) @type
  (#match? @type "^[A-Z]"))

(scoped_identifier
  path: (identifier) @namespace
  (#not-match? @namespace "^[A-Z]"))

(scoped_identifier
  path: (scoped_identifier
    name: (identifier) @type)
  (#match? @type "^[A-Z]"))

(scoped_identifier
  path: (scoped_identifier
    name: (identifier) @namespace)
  (#not-match? @namespace "^[A-Z]"))

; The constructor or function a node is built with
(node_declaration
  target: [
    (identifier) @function
    (scoped_identifier
      name: (identifier) @function)
  ])

(group_declaration
  target: [
    (identifier) @function
    (scoped_identifier
      name: (identifier) @function)
  ])

; What a `use` brings into scope: types, or functions run by `fn` nodes
(use_declaration
  argument: (scoped_identifier
    name: (identifier) @type)
  (#match? @type "^[A-Z]"))

(use_declaration
  argument: (scoped_identifier
    name: (identifier) @function)
  (#not-match? @function "^[A-Z]"))

(use_list
  [
    (identifier) @type
    (scoped_identifier
      name: (identifier) @type)
  ]
  (#match? @type "^[A-Z]"))

(use_list
  [
    (identifier) @function
    (scoped_identifier
      name: (identifier) @function)
  ]
  (#not-match? @function "^[A-Z]"))

(use_as_clause
  path: [
    (identifier) @type
    (scoped_identifier
      name: (identifier) @type)
  ]
  (#match? @type "^[A-Z]"))

(use_as_clause
  path: [
    (identifier) @function
    (scoped_identifier
      name: (identifier) @function)
  ]
  (#not-match? @function "^[A-Z]"))

(use_as_clause
  alias: (identifier) @type
  (#match? @type "^[A-Z]"))

(use_as_clause
  alias: (identifier) @function
  (#not-match? @function "^[A-Z]"))

; Arguments and block entries
(argument
  name: (identifier) @variable.parameter)

(field
  name: (identifier) @variable.other.member)

(section
  name: (identifier) @label)

(setting
  name: (identifier) @label)

(process_setting
  name: (identifier) @label)

(batch
  method: (identifier) @function.method)

(call
  function: (identifier) @function)

; Operators and punctuation
[
  "+"
  "-"
  "*"
  "/"
  "%"
  "="
] @operator

[
  ";"
  ":"
  "::"
  ","
] @punctuation.delimiter

[
  "("
  ")"
  "["
  "]"
  "{"
  "}"
] @punctuation.bracket
