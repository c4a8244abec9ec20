; Scopes, definitions and references of `.lp` names (for editors that highlight or rename by
; scope): a program's params, nodes and groups are visible in the whole program.

(program_body) @local.scope

(param_declaration
  name: (identifier) @local.definition.parameter)

(node_declaration
  name: (identifier) @local.definition.var)

(group_declaration
  name: (identifier) @local.definition.var)

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
