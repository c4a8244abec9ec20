; Helix-only (Helix's indent query format): one level per open bracket, as `lpc fmt` lays out.

[
  (program_body)
  (process_body)
  (block)
  (arguments)
  (use_list)
  (list)
] @indent

[
  "}"
  ")"
  "]"
] @outdent
