; Zed-only: the outline (and breadcrumbs): programs › params, nodes, groups, processes › nodes.

(program
  "program" @context
  name: (identifier) @name) @item

(param_declaration
  "param" @context
  name: (identifier) @name) @item

(node_declaration
  "node" @context
  name: (identifier) @name) @item

(group_declaration
  "group" @context
  name: (identifier) @name) @item

(process_declaration
  "process" @context
  name: (identifier) @name) @item
