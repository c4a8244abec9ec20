[
  (program_body)
  (process_body)
  (block)
  (arguments)
  (use_list)
  (block_comment)
] @fold
