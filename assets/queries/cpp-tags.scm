; Tag queries for C++, used by tandem's repository index.
; Adapted from tree-sitter-cpp's queries/tags.scm; see rust-tags.scm for what
; the capture names mean. The whole definition (not just its declarator) is the
; item, so line ranges cover function bodies. Functions without a return type
; (constructors, destructors, conversions) are left out.

; ---- definitions: free functions, with their prototypes ----
(function_definition
  type: (_)
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
    (reference_declarator (function_declarator declarator: (identifier) @name))
  ]) @definition.function
(declaration
  type: (_)
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
    (reference_declarator (function_declarator declarator: (identifier) @name))
  ]) @definition.function

; ---- definitions: member functions, in the class body or out of it (`T Class::name() {}`) ----
(function_definition
  type: (_)
  declarator: [
    (function_declarator declarator: (field_identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (field_identifier) @name))
    (reference_declarator (function_declarator declarator: (field_identifier) @name))
    (function_declarator declarator: (qualified_identifier name: (identifier) @name))
    (function_declarator declarator: (qualified_identifier name: (qualified_identifier name: (identifier) @name)))
    (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier name: (identifier) @name)))
    (reference_declarator (function_declarator declarator: (qualified_identifier name: (identifier) @name)))
  ]) @definition.method
(field_declaration
  type: (_)
  declarator: [
    (function_declarator declarator: (field_identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (field_identifier) @name))
    (reference_declarator (function_declarator declarator: (field_identifier) @name))
  ]) @definition.method

; ---- definitions: types and namespaces ----
(class_specifier name: (type_identifier) @name body: (_)) @definition.class
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(enumerator name: (identifier) @name) @definition.variant
(type_definition declarator: (type_identifier) @name) @definition.type
(type_definition declarator: (pointer_declarator declarator: (type_identifier) @name)) @definition.type
(alias_declaration name: (type_identifier) @name) @definition.type
(namespace_definition name: (namespace_identifier) @name) @definition.module

; ---- definitions: constants at file or namespace scope (`constexpr int kMax = 10;`) ----
[(translation_unit
   (declaration
     (type_qualifier ["const" "constexpr"])
     declarator: (init_declarator declarator: (identifier) @name)) @definition.const)
 (declaration_list
   (declaration
     (type_qualifier ["const" "constexpr"])
     declarator: (init_declarator declarator: (identifier) @name)) @definition.const)]

; ---- definitions: macros (a `#define` without a value, such as an include guard, is left out) ----
; The name is the item: a directive's node ends on the next line, past its newline.
(preproc_def name: (identifier) @name @definition.macro value: (_))
(preproc_function_def name: (identifier) @name @definition.macro)

; ---- references: calls ----
(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
    (qualified_identifier name: (identifier) @name)
    (qualified_identifier name: (qualified_identifier name: (identifier) @name))
    (template_function name: (identifier) @name)
    (qualified_identifier name: (template_function name: (identifier) @name))
    (field_expression field: (template_method name: (field_identifier) @name))
  ]) @reference.call

; ---- references: types (signatures, fields, bases, `new`, template arguments) ----
(type_identifier) @name @reference.type

; ---- references: qualifiers (`Shape::make` and `Shape::area() {}` refer to `Shape`) ----
(qualified_identifier scope: (namespace_identifier) @name) @reference.path

; ---- references: using declarations (leaf names only) ----
(using_declaration (qualified_identifier name: (identifier) @name)) @reference.use
(using_declaration (qualified_identifier name: (qualified_identifier name: (identifier) @name))) @reference.use

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
[(class_specifier) (struct_specifier) (union_specifier) (enum_specifier) (namespace_definition)
 (function_definition)] @context.scope
; `reference.path` captures inside these are namespace names, not uses of items.
(using_declaration) @context.use
; A template parameter's declaration defines the name rather than using it.
(type_parameter_declaration (type_identifier) @context.generic)
(optional_type_parameter_declaration name: (type_identifier) @context.generic)
