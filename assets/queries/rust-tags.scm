; Tag queries for Rust, used by tandem's repository index.
; Capture names: `@name` is the identifier; `@definition.<kind>` is the whole
; item (its range becomes the definition's line range); `@reference.<why>`
; marks a use of a name. Code in src/index/tags.rs refines what a query cannot
; express (methods vs. functions, generic parameters, `use` paths).

; ---- definitions ----
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(enum_variant name: (identifier) @name) @definition.variant
(union_item name: (type_identifier) @name) @definition.union
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(associated_type name: (type_identifier) @name) @definition.type
(const_item name: (identifier) @name) @definition.const
(static_item name: (identifier) @name) @definition.static
(mod_item name: (identifier) @name) @definition.module
(macro_definition name: (identifier) @name) @definition.macro

; ---- references: calls ----
(call_expression function: (identifier) @name) @reference.call
(call_expression function: (field_expression field: (field_identifier) @name)) @reference.call
(call_expression function: (scoped_identifier name: (identifier) @name)) @reference.call
(generic_function function: (identifier) @name) @reference.call
(generic_function function: (field_expression field: (field_identifier) @name)) @reference.call
(generic_function function: (scoped_identifier name: (identifier) @name)) @reference.call

; ---- references: path qualifiers (`Type::new` refers to `Type`) ----
(scoped_identifier path: (identifier) @name) @reference.path
(scoped_identifier path: (scoped_identifier name: (identifier) @name)) @reference.path
(scoped_type_identifier path: (identifier) @name) @reference.path
(scoped_type_identifier path: (scoped_identifier name: (identifier) @name)) @reference.path

; ---- references: macros ----
(macro_invocation macro: (identifier) @name) @reference.macro
(macro_invocation macro: (scoped_identifier name: (identifier) @name)) @reference.macro

; ---- references: types (signatures, fields, generics, impl headers) ----
(type_identifier) @name @reference.type

; ---- references: field access ----
(field_expression field: (field_identifier) @name) @reference.field

; ---- references: use declarations (leaf names only) ----
(use_declaration argument: (identifier) @name) @reference.use
(use_declaration argument: (scoped_identifier name: (identifier) @name)) @reference.use
(use_list (identifier) @name) @reference.use
(use_list (scoped_identifier name: (identifier) @name)) @reference.use
(use_as_clause path: (identifier) @name) @reference.use
(use_as_clause path: (scoped_identifier name: (identifier) @name)) @reference.use

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
; Functions directly in an impl or trait body are methods.
(impl_item body: (declaration_list [(function_item) (function_signature_item)] @context.method))
(trait_item body: (declaration_list [(function_item) (function_signature_item)] @context.method))
; Items whose first line is shown above the definitions inside them.
[(impl_item) (trait_item) (mod_item) (enum_item) (function_item) (foreign_mod_item)] @context.scope
; `reference.path` captures inside these are module names, not uses of items.
(use_declaration) @context.use
; A generic parameter's declaration defines the name rather than using it.
(type_parameter name: (type_identifier) @context.generic)
