package odata

import "testing"

// typicalFilters are $filter values Salesforce Connect sends.
var typicalFilters = []string{
	"CustomerID eq 'ALFKI'",
	"(Country eq 'USA' or Country eq 'UK') and CreditLimit gt 1000",
	"contains(Name,'red')",
	"OrderDate ge 2024-01-15T00:00:00Z and Status eq 'Open'",
	"order_id eq 10248 and line_no eq 2",
	"contains(Name,'red') or contains(City,'red') or contains(Country,'red')",
}

func BenchmarkParseFilter(b *testing.B) {
	for _, f := range typicalFilters {
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseFilter(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseRequest(b *testing.B) {
	const q = "$orderby=City&$select=City,CustomerID&$filter=Country%20eq%20%27USA%27&$count=true&$top=26"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest("/Customers", q); err != nil {
			b.Fatal(err)
		}
	}
}
