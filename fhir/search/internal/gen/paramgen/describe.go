package paramgen

import "strings"

// maxDescription bounds a description: they go into the
// CapabilityStatement once per parameter and type.
const maxDescription = 200

// ShortDescription is the first sentence of a spec description, on one
// line, at most about maxDescription bytes. A "Multiple Resources:" list
// becomes its distinct texts joined by "; ".
func ShortDescription(d string) string {
	d = strings.ReplaceAll(d, "\r\n", "\n")
	if rest, ok := strings.CutPrefix(d, "Multiple Resources:"); ok {
		d = joinBullets(rest)
	} else {
		d, _, _ = strings.Cut(strings.TrimSpace(d), "\n")
		d = firstSentence(d)
	}
	return truncate(strings.Join(strings.Fields(d), " "), maxDescription)
}

// joinBullets reads "* [Type](type.html): text" lines.
func joinBullets(list string) string {
	var texts []string
	seen := map[string]bool{}
	for _, line := range strings.Split(list, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "* ") {
			continue
		}
		_, text, ok := strings.Cut(line, "): ")
		if !ok {
			text = line[2:]
		}
		if text = strings.TrimSpace(text); text != "" && !seen[text] {
			seen[text] = true
			texts = append(texts, text)
		}
	}
	return strings.Join(texts, "; ")
}

// firstSentence cuts at the first ". " followed by a capital letter, so
// "e.g. x" and "1.5 mg" do not end it.
func firstSentence(s string) string {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '.' && s[i+1] == ' ' && s[i+2] >= 'A' && s[i+2] <= 'Z' {
			return s[:i+1]
		}
	}
	return s
}

// truncate cuts s to at most max bytes at a word boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := strings.LastIndexByte(s[:max-3], ' ')
	if cut <= 0 {
		cut = max - 3
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
	}
	return strings.TrimRight(s[:cut], " ;,|") + "..."
}
