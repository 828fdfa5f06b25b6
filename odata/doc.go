// Package odata parses OData 4.0/4.01 request URLs into a syntax tree: the
// resource path and the system query options. It knows nothing of the
// entity model (odata/semantic binds names and types) and imports nothing
// from the project. The lexer and the recursive-descent parser are written
// by hand from the OASIS "OData ABNF Construction Rules" (rule names below);
// every node records its byte Span in the decoded option text, and String()
// prints canonical OData that parses back to an equal tree.
//
// # Entry points
//
//   - ParseRequest(escapedPath, rawQuery): path + query string.
//   - ParseFilter / ParseExpr (commonExpr with parameter aliases),
//     ParseOrderBy, ParseSelect, ParseSearch: one decoded option value.
//
// # Supported grammar
//
// Resource path (resourcePath subset): "" or "/" (service document),
// "/$metadata", "/$batch", "/Set", "/Set(keyPredicate)", "/Set/$count";
// further segments are kept, decoded, in Path.Rest for the binder, and
// parsed in Path.Segments: a name with an optional key predicate
// ("Orders(10248)", navigation), or the segment whole ("$ref", "ALFKI").
// keyPredicate: simpleKey "(v)" or compoundKey "(a=v,b=v)", v a
// primitiveLiteral or parameterAlias. Path segments are percent-decoded
// without turning '+' into a space.
//
// Query string: split on '&', names and values decoded form-style ('+' is a
// space). System options are case-insensitive and may not repeat; unknown
// $-options are errors. $filter (boolCommonExpr), $orderby (orderbyItem list
// with asc/desc), $select (STAR or property paths, possibly qualified),
// $search (searchExpr), $top and $skip (1*DIGIT), $count (true/false, any
// case), $skiptoken and $deltatoken (opaque), $format (as written), @alias
// (parameterAlias = commonExpr, parsed lazily), custom options.
//
// Expressions (commonExpr), lowest precedence first: orExpr; andExpr;
// eqExpr neExpr ltExpr leExpr gtExpr geExpr hasExpr inExpr (listExpr);
// addExpr subExpr; mulExpr divExpr divbyExpr modExpr; negateExpr notExpr;
// then primitiveLiteral, parameterAlias, parenExpr, method calls (any
// name(args): methodCallExpr, castExpr, isofExpr; the binder checks names
// and arity; names are lower-cased), property paths (identifier *("/"
// identifier), segments may be qualified type names, "/$count" allowed) and
// lambdas path/any(v:expr), path/all(v:expr), path/any(). Operators,
// function names, true/false and asc/desc are case-insensitive (4.01);
// null, INF, NaN and the search keywords AND OR NOT are case-sensitive.
// "not" is a reserved word. RWS (one or more SP/HTAB) is required around
// binary operators and after "not" (an opening parenthesis may follow
// directly); BWS is allowed inside parentheses and around commas.
// Leading and trailing whitespace of an option value is accepted.
//
// Literals (primitiveLiteral): null; boolean; int, decimal and double
// (decimalLiteral with optional sign and exponent, INF, -INF, NaN); string
// ('..' with ” for a quote); date (year-month-day, validated, negative and
// 5+ digit years allowed); dateTimeOffsetLiteral (hh:mm[:ss[.1-12 digits]],
// then Z or ±hh:mm; second 60 allowed as in the ABNF); timeOfDayLiteral;
// durationLiteral duration'P..' and, as in 4.01, a bare [-]P1DT2H (upper
// case, at least one component; a property with such a name cannot be
// referenced); guid; binaryLiteral binary'base64url' (X'..' is not OData 4);
// enumLiteral Namespace.Type'Member,..' and geography'..'/geometry'..'
// (balanced quotes only) are parsed so the binder can answer 501.
// Literal.Value: unescaped text for strings, decoded bytes for binary,
// "true"/"false" for booleans, the text between the quotes for prefixed
// durations, Raw otherwise.
//
// $search: words (runs of characters other than whitespace, '(', ')', '"'),
// "phrases" with \" and \\ escapes, NOT > AND (also implicit between terms)
// > OR, parentheses. Keywords act as operators only where one fits and a
// term follows; otherwise they are words.
//
// # Not supported
//
// Returned as *UnsupportedError (501): $it, $this, $root, JSON array and
// object literals, annotations (@Ns.Term), bound functions and functions
// with named parameters in expressions, paths after a call, $filter/$each
// path segments, $count with options, nested $select options and
// Namespace.* in $select, $-prefixed first path segments other than
// $metadata and $batch. Recorded in Options.Unsupported (the server answers
// 501): $levels, $index, $schemaversion, $id.
// System options without '$' (4.01) are treated as custom options.
//
// # Limits and errors
//
// Input is capped at MaxInputLen (1 MiB) per option and nesting at MaxDepth
// (256); the binder enforces the configurable, lower limits. The parser
// never panics. Syntax errors are *SyntaxError{Option, Offset, Msg}: Option
// is "$filter", "$orderby", "$select", "$search", "$top", "@p", "path",
// "query", ...; Offset is the 0-based byte offset in the decoded value where
// the problem starts. The value of alias @p is parsed with Option "@p" and
// its nodes' spans are offsets in that alias value.
package odata
