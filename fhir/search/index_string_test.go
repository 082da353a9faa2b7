package search

import "testing"

func TestStringEntries(t *testing.T) {
	s := func(exact, text string) Entry { return Entry{Text: text, Exact: exact} }
	t.Run("HumanName", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "name", URL: "u:name", Type: String, Base: []string{"Patient"}, Expression: "Patient.name"}}, []indexCase{
			{
				name: "accents folded, each part, and the name as written",
				resource: `{"resourceType":"Patient","name":[{"family":"Ñúñez-O'Brien","given":["José","María"],
					"prefix":["Dr."],"suffix":["PhD"]}]}`,
				want: []Entry{
					s("Ñúñez-O'Brien", "nunez o brien"), s("José", "jose"), s("María", "maria"),
					s("Dr.", "dr"), s("PhD", "phd"), s("José María Ñúñez-O'Brien", "jose maria nunez o brien"),
				},
			},
			{
				name:     "text given: no composed name",
				resource: `{"resourceType":"Patient","name":[{"text":"Zoë  Smith","family":"Smith","given":["Zoë"]}]}`,
				want:     []Entry{s("Zoë  Smith", "zoe smith"), s("Smith", "smith"), s("Zoë", "zoe")},
			},
			{
				name:     "given only; blanks skipped",
				resource: `{"resourceType":"Patient","name":[{"given":["Jim"," "],"family":""}]}`,
				want:     []Entry{s("Jim", "jim")},
			},
			{
				name:     "German sharp s",
				resource: `{"resourceType":"Patient","name":[{"family":"Straße"}]}`,
				want:     []Entry{s("Straße", "strasse")},
			},
		})
	})
	t.Run("Address", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "address", URL: "u:address", Type: String, Base: []string{"Patient"}, Expression: "Patient.address"}}, []indexCase{{
			name: "every part",
			resource: `{"resourceType":"Patient","address":[{"use":"home","line":["1 Rue de l'Église","Flat 2"],"city":"Montréal",
				"district":"Ville-Marie","state":"QC","postalCode":"H2X 1Y4","country":"CA","text":"1 Rue de l'Église, Montréal"}]}`,
			want: []Entry{
				s("1 Rue de l'Église", "1 rue de l eglise"), s("Flat 2", "flat 2"), s("Montréal", "montreal"),
				s("Ville-Marie", "ville marie"), s("QC", "qc"), s("H2X 1Y4", "h2x 1y4"), s("CA", "ca"),
				s("1 Rue de l'Église, Montréal", "1 rue de l eglise montreal"),
			},
		}})
	})
	t.Run("primitives", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "name", URL: "u:oname", Type: String, Base: []string{"Organization"}, Expression: "Organization.name | Organization.alias"}}, []indexCase{{
			name:     "string and repeated string",
			resource: `{"resourceType":"Organization","name":"St. Mary's Hospital","alias":["SMH","  "]}`,
			want:     []Entry{s("St. Mary's Hospital", "st mary s hospital"), s("SMH", "smh")},
		}})
	})
}
