; Tag queries for C, used by tandem's repository index.
; Adapted from tree-sitter-c's queries/tags.scm; see rust-tags.scm for what the
; capture names mean. The whole definition (not just its declarator) is the
; item, so line ranges cover function bodies.

; ---- definitions: functions, with their prototypes (`int f(void);`) ----
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(function_definition
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(function_definition
  declarator: (pointer_declarator
    declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))) @definition.function
(declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(declaration
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(declaration
  declarator: (pointer_declarator
    declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))) @definition.function

; ---- definitions: types ----
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(enumerator name: (identifier) @name) @definition.variant
(type_definition declarator: (type_identifier) @name) @definition.type
(type_definition declarator: (pointer_declarator declarator: (type_identifier) @name)) @definition.type
(type_definition
  declarator: (function_declarator
    declarator: (parenthesized_declarator (pointer_declarator declarator: (type_identifier) @name)))) @definition.type

; ---- definitions: file-scope constants (`static const int MAX = 10;`) ----
(translation_unit
  (declaration
    (type_qualifier ["const" "constexpr"])
    declarator: (init_declarator declarator: (identifier) @name)) @definition.const)

; ---- definitions: macros (a `#define` without a value, such as an include guard, is left out) ----
; The name is the item: a directive's node ends on the next line, past its newline.
(preproc_def name: (identifier) @name @definition.macro value: (_))
(preproc_function_def name: (identifier) @name @definition.macro)

; ---- references ----
(call_expression function: (identifier) @name) @reference.call
(call_expression function: (field_expression field: (field_identifier) @name)) @reference.call
(type_identifier) @name @reference.type

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
[(struct_specifier) (union_specifier) (enum_specifier) (function_definition)] @context.scope
