; Generated from editors/tree-sitter-lp/queries/locals.scm, with this editor's capture
; names, by editors/tests/tests/editor_queries.rs: edit the source, then run
; UPDATE_EDITOR_QUERIES=1 cargo test -p lp-editors --test editor_queries

; Scopes, definitions and references of `.lp` names (for editors that highlight or rename by
; scope): a program's params, nodes and groups are visible in the whole program.

(program_body) @local.scope

(param_declaration
  name: (identifier) @local.definition.variable.parameter)

(node_declaration
  name: (identifier) @local.definition.variable)

(group_declaration
  name: (identifier) @local.definition.variable)

(index_expression
  base: (identifier) @local.reference)

(argument
  value: (identifier) @local.reference)

(field
  value: (identifier) @local.reference)

(binary_expression
  (identifier) @local.reference)

(unary_expression
  (identifier) @local.reference)

(list
  (identifier) @local.reference)

(group_declaration
  count: (identifier) @local.reference)
