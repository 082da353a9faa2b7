package search

import "testing"

func TestURIEntries(t *testing.T) {
	params := []Param{
		{Code: "_profile", URL: "u:profile", Type: URI, Base: []string{"Resource"}, Expression: "Resource.meta.profile"},
		{Code: "_source", URL: "u:source", Type: URI, Base: []string{"Resource"}, Expression: "Resource.meta.source"},
		{Code: "url", URL: "u:url", Type: URI, Base: []string{"ValueSet"}, Expression: "ValueSet.url"},
	}
	runIndexCases(t, params, []indexCase{{
		name: "uri, url and canonical as written",
		resource: `{"resourceType":"ValueSet","url":"http://example.org/ValueSet/skin","meta":{
			"profile":["http://example.org/StructureDefinition/vs|1.0","urn:oid:1.2.3"],"source":"  "}}`,
		want: []Entry{
			{Param: "_profile", Kind: URI, URL: "http://example.org/StructureDefinition/vs|1.0"},
			{Param: "_profile", Kind: URI, URL: "urn:oid:1.2.3"},
			{Param: "url", Kind: URI, URL: "http://example.org/ValueSet/skin"},
		},
	}})
}
