# capture.jq: turns the gateway's debug log (one JSON object per line, read
# with jq -R) into runnable SQL: every line carrying a "sql" field becomes one
# statement with its bind parameters ($1, $2, ...) replaced by literals taken
# from the "args" field (array). Lines that are not JSON are ignored.
#
# --argjson special {"<value as text>": "<replacement SQL>"} substitutes chosen
# argument values with SQL text instead of a literal (run.sh uses it to turn
# the key of a probe write into a pgbench variable such as :id).
#
# Strings become single-quoted literals (quotes doubled): an untyped literal is
# resolved by PostgreSQL exactly like an untyped bind parameter.

def quote: "'" + gsub("'"; "''") + "'";

def lit($special):
  if ($special[tostring] // null) != null then $special[tostring]
  elif type == "string" then quote
  elif type == "null" then "NULL"
  elif type == "boolean" then (if . then "true" else "false" end)
  elif type == "array" then "ARRAY[" + (map(lit($special)) | join(",")) + "]"
  elif type == "object" then (tojson | quote)
  else tostring end;

fromjson?
| select(type == "object" and (.sql | type) == "string")
| (.args // []) as $args
| if ($args | type) == "array" then
    .sql | gsub("\\$(?<n>[0-9]+)"; ($args[(.n | tonumber) - 1] | lit($special)))
  else
    .sql
  end
| sub("[;[:space:]]+$"; "") + ";"
