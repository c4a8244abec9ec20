/**
 * @file tree-sitter grammar for Launchpad-for-Rust `.lp` topology files.
 *
 * It mirrors `grammar/lp.pest` (the one grammar `lpc` parses with); a test in `editors/tests`
 * checks that every keyword of the pest grammar appears here. Block comments nest, as in Rust,
 * so they are scanned by `src/scanner.c`.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const PREC = {
  additive: 1,
  multiplicative: 2,
  unary: 3,
};

/** `rule (',' rule)* ','?`, possibly empty. */
function commaSep(rule) {
  return optional(seq(rule, repeat(seq(',', rule)), optional(',')));
}

module.exports = grammar({
  name: 'lp',

  extras: $ => [/\s/, $.line_comment, $.doc_comment, $.block_comment],

  externals: $ => [$.block_comment],

  word: $ => $.identifier,

  rules: {
    source_file: $ => repeat(choice($.use_declaration, $.program)),

    // ---------------------------------------------------------------------------------------
    // Lexical structure

    identifier: _ => /[_\p{XID_Start}][\p{XID_Continue}]*/,

    /** `/// …`: documents the item that follows (`////` is a plain comment). */
    doc_comment: _ => token(seq('///', optional(seq(/[^/\n]/, /[^\n]*/)))),
    /** `// …`, but not `/// …`. */
    line_comment: _ => token(seq('//', optional(choice(seq(/[^/\n]/, /[^\n]*/), seq('//', /[^\n]*/))))),

    /** `250ms`, `2s`, `5m`, `1h`. Listed before the numbers: on a tie the earlier token wins. */
    duration: _ => /[0-9][0-9_]*(ms|s|m|h)/,
    /** `0.5`, `1e-3`, `1.5e+6`. */
    float: _ => /[0-9][0-9_]*(\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?|[eE][+-]?[0-9][0-9_]*)[_\p{XID_Continue}]*/,
    /**
     * `42`, `1_000`, `0xff`. Like the pest grammar, a number takes any suffix (`5x` is then an
     * invalid literal for `lpc`, not a syntax error).
     */
    integer: _ => /[0-9][0-9_]*[_\p{XID_Continue}]*/,

    string: $ => seq(
      '"',
      repeat(choice($.string_content, $.escape_sequence)),
      token.immediate('"'),
    ),
    string_content: _ => token.immediate(prec(1, /[^"\\]+/)),
    escape_sequence: _ => token.immediate(/\\(u\{[0-9a-fA-F_]*\}|x[0-9a-fA-F]{2}|[^ux]|u|x)/),

    boolean: _ => choice('true', 'false'),
    replica: _ => 'replica',
    replicas: _ => 'replicas',

    /** `a::b::C`: a path of Rust names. */
    _path: $ => choice($.identifier, $.scoped_identifier),
    scoped_identifier: $ => seq(
      field('path', $._path),
      '::',
      field('name', $.identifier),
    ),

    // ---------------------------------------------------------------------------------------
    // Items

    /** `use a::b::C;`, `use a::b::{C, D as E};`, `use a::b::C as E;` */
    use_declaration: $ => seq(
      'use',
      field('argument', choice($._path, $.use_as_clause, $.scoped_use_list)),
      ';',
    ),
    use_as_clause: $ => seq(field('path', $._path), 'as', field('alias', $.identifier)),
    scoped_use_list: $ => seq(field('path', $._path), '::', field('list', $.use_list)),
    use_list: $ => seq('{', commaSep(choice($._path, $.use_as_clause)), '}'),

    /** `program NAME { … }` */
    program: $ => seq(
      'program',
      field('name', $.identifier),
      field('body', $.program_body),
    ),
    program_body: $ => seq(
      '{',
      repeat(choice($.param_declaration, $.node_declaration, $.group_declaration, $.process_declaration)),
      '}',
    ),

    /** `param NAME: TYPE = DEFAULT;` (the default is optional) */
    param_declaration: $ => seq(
      'param',
      field('name', $.identifier),
      ':',
      field('type', choice($.identifier, $.rust_type)),
      optional(seq('=', field('default', $._expression))),
      ';',
    ),

    /**
     * A param type that is more than a name: a path, generics, a reference, an array or a tuple
     * (`std::time::Duration`, `Vec<u8>`, `&'static str`, `[u8; 4]`). Only names are supported
     * types, but like the pest grammar this parses the others, which `lpc` reports as
     * unsupported (E0306), not as syntax errors.
     */
    rust_type: $ => choice(
      prec.right(seq($.identifier, repeat1(choice(seq('::', $.identifier), $.type_arguments)))),
      seq('&', optional($.lifetime), optional('mut'), $._type),
      seq('[', $._type, optional(seq(';', $.integer)), ']'),
      seq('(', commaSep($._type), ')'),
    ),
    _type: $ => choice($.identifier, $.rust_type),
    type_arguments: $ => seq('<', commaSep(choice($._type, $.lifetime)), '>'),
    lifetime: _ => /'[_\p{XID_Start}][\p{XID_Continue}]*/,

    /** `node NAME = KIND PATH::CTOR(ARGS);` or with a block instead of `;` */
    node_declaration: $ => seq(
      'node',
      field('name', $.identifier),
      '=',
      $._node_body,
    ),

    /** `group NAME[COUNT] = KIND PATH::CTOR(ARGS);` or with a block instead of `;` */
    group_declaration: $ => seq(
      'group',
      field('name', $.identifier),
      '[',
      field('count', $._expression),
      ']',
      '=',
      $._node_body,
    ),

    _node_body: $ => seq(
      field('kind', $.node_kind),
      field('target', $._path),
      field('arguments', $.arguments),
      choice(';', field('block', $.block)),
    ),

    node_kind: _ => choice('courier', 'worker', 'fn'),

    /** `process NAME { return_on_first_completed: true; node …; group …; }` */
    process_declaration: $ => seq(
      'process',
      field('name', $.identifier),
      field('body', $.process_body),
    ),
    process_body: $ => seq(
      '{',
      repeat(choice($.process_setting, $.node_declaration, $.group_declaration)),
      '}',
    ),
    /** `return_on_first_completed: true;` */
    process_setting: $ => seq(field('name', $.identifier), ':', field('value', $._expression), ';'),

    arguments: $ => seq('(', commaSep($.argument), ')'),
    /** `name: value` (Rust-side names may be `.lp` keywords). */
    argument: $ => seq(field('name', $._rust_name), ':', field('value', $._expression)),

    // ---------------------------------------------------------------------------------------
    // The block after a constructor: launcher settings.

    block: $ => seq('{', repeat(choice($.batch, $.section, $.setting)), '}'),
    /** `batch METHOD { size: 8, timeout: 200ms }` */
    batch: $ => seq(
      'batch',
      field('method', $._rust_name),
      '{', commaSep($.field), '}',
    ),
    /** `resources { cpus: 1, memory: "2Gi" }` */
    section: $ => seq(field('name', $.identifier), '{', commaSep($.field), '}'),
    /** `restart: on_failure(max: 3)` */
    setting: $ => seq(field('name', $.identifier), ':', field('value', $._expression), optional(',')),
    field: $ => seq(field('name', $._rust_name), ':', field('value', $._expression)),

    /** A Rust-side name: it may be spelled like an `.lp` keyword. */
    _rust_name: $ => choice(
      $.identifier,
      alias(choice(
        'use', 'program', 'param', 'node', 'group', 'process', 'courier', 'worker', 'fn',
        'as', 'true', 'false', 'replicas', 'replica', 'batch',
      ), $.identifier),
    ),

    // ---------------------------------------------------------------------------------------
    // Expressions: integer arithmetic over literals, names and `replica`/`replicas`.

    _expression: $ => choice(
      $.binary_expression,
      $.unary_expression,
      $.parenthesized_expression,
      $.list,
      $.duration,
      $.float,
      $.integer,
      $.string,
      $.boolean,
      $.replicas,
      $.replica,
      $.call,
      $.index_expression,
      $.identifier,
    ),

    binary_expression: $ => choice(
      prec.left(PREC.additive, seq(
        field('left', $._expression), field('operator', choice('+', '-')), field('right', $._expression),
      )),
      prec.left(PREC.multiplicative, seq(
        field('left', $._expression), field('operator', choice('*', '/', '%')), field('right', $._expression),
      )),
    ),
    unary_expression: $ => prec(PREC.unary, seq('-', field('operand', $._expression))),
    parenthesized_expression: $ => seq('(', $._expression, ')'),
    list: $ => seq('[', commaSep($._expression), ']'),
    /** `on_failure(max: 3, backoff: 1s)`: call-like values in block settings */
    call: $ => seq(field('function', $.identifier), field('arguments', $.arguments)),
    /** `producer[0]` */
    index_expression: $ => seq(field('base', $.identifier), '[', field('index', $._expression), ']'),
  },
});
