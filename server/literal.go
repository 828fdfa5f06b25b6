package server

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
)

// formatLiteral prints a constant as an OData URL literal (key predicates).
func formatLiteral(c semantic.Const) string {
	if c.Null {
		return "null"
	}
	switch v := c.V.(type) {
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		switch c.T {
		case metadata.Decimal, metadata.Guid:
			return v
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case []byte:
		return "binary'" + base64.URLEncoding.EncodeToString(v) + "'"
	case time.Time:
		if c.T == metadata.Date {
			return v.UTC().Format("2006-01-02")
		}
		return string(jsonfmt.AppendDateTime(nil, v))
	case time.Duration:
		if c.T == metadata.TimeOfDay {
			return string(jsonfmt.AppendTimeOfDay(nil, v))
		}
		return "duration'" + string(jsonfmt.AppendDuration(nil, v)) + "'"
	}
	return "null"
}
