
; JSX, appended to javascript-tags.scm and typescript-tags.scm for
; JavaScript and TSX files (src/index/lang.rs).
; ---- references: JSX components (lower-case names are HTML elements) ----
((jsx_opening_element name: (identifier) @name) @reference.call (#match? @name "^[A-Z]"))
((jsx_self_closing_element name: (identifier) @name) @reference.call (#match? @name "^[A-Z]"))
(jsx_opening_element name: (member_expression property: (property_identifier) @name)) @reference.call
(jsx_self_closing_element name: (member_expression property: (property_identifier) @name)) @reference.call
