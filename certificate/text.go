package certificate

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The core PDF fonts (Helvetica, Courier) hold the Windows-1252 repertoire. Text outside it is
// written so that it stays true: a Latin letter with a mark the code page lacks becomes its
// nearest letter (ő → ö, č → c), Greek and Cyrillic letters their Latin transliteration, and
// anything else its code point (‹U+4E2D›). Nothing is dropped and nothing becomes '?'.

// cp1252Upper are the characters of Windows-1252 at 0x80–0x9F (the rest of the code page is
// ASCII and Latin-1).
const cp1252Upper = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

// inCP1252 says whether r has a printable glyph in Windows-1252.
func inCP1252(r rune) bool {
	switch {
	case r >= 0x20 && r < 0x7f:
		return true
	case r >= 0xa0 && r <= 0xff:
		return true
	}
	return strings.ContainsRune(cp1252Upper, r)
}

// nearest maps letters outside Windows-1252 to their usual written form: letters whose mark the
// code page lacks where a closer letter than the bare base exists, letters that do not
// decompose, Greek (ELOT 743) and Cyrillic (scientific transliteration).
var nearest = map[rune]string{
	// Hungarian double acute: the customary fallback is the umlaut.
	'ő': "ö", 'Ő': "Ö", 'ű': "ü", 'Ű': "Ü",
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ħ': "h", 'Ħ': "H", 'ı': "i", 'ŀ': "l", 'Ŀ': "L",
	'ŧ': "t", 'Ŧ': "T", 'ĳ': "ij", 'Ĳ': "IJ", 'ŋ': "ng", 'Ŋ': "Ng", 'ſ': "s", 'ẞ': "SS",
	'ə': "e", 'Ə': "E", 'ǝ': "e", 'Ǝ': "E", 'ș': "s", 'Ș': "S", 'ț': "t", 'Ț': "T",
	// Greek
	'Α': "A", 'Β': "V", 'Γ': "G", 'Δ': "D", 'Ε': "E", 'Ζ': "Z", 'Η': "I", 'Θ': "Th", 'Ι': "I",
	'Κ': "K", 'Λ': "L", 'Μ': "M", 'Ν': "N", 'Ξ': "X", 'Ο': "O", 'Π': "P", 'Ρ': "R", 'Σ': "S",
	'Τ': "T", 'Υ': "Y", 'Φ': "F", 'Χ': "Ch", 'Ψ': "Ps", 'Ω': "O",
	'α': "a", 'β': "v", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i", 'θ': "th", 'ι': "i",
	'κ': "k", 'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o", 'π': "p", 'ρ': "r", 'σ': "s",
	'ς': "s", 'τ': "t", 'υ': "y", 'φ': "f", 'χ': "ch", 'ψ': "ps", 'ω': "o",
	// Cyrillic
	'А': "A", 'Б': "B", 'В': "V", 'Г': "G", 'Д': "D", 'Е': "E", 'Ё': "Ë", 'Ж': "Zh", 'З': "Z",
	'И': "I", 'Й': "J", 'К': "K", 'Л': "L", 'М': "M", 'Н': "N", 'О': "O", 'П': "P", 'Р': "R",
	'С': "S", 'Т': "T", 'У': "U", 'Ф': "F", 'Х': "Kh", 'Ц': "Ts", 'Ч': "Ch", 'Ш': "Sh",
	'Щ': "Shch", 'Ъ': "\"", 'Ы': "Y", 'Ь': "'", 'Э': "È", 'Ю': "Ju", 'Я': "Ja",
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "ë", 'ж': "zh", 'з': "z",
	'и': "i", 'й': "j", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r",
	'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh",
	'щ': "shch", 'ъ': "\"", 'ы': "y", 'ь': "'", 'э': "è", 'ю': "ju", 'я': "ja",
	'Є': "Je", 'є': "je", 'І': "I", 'і': "i", 'Ї': "Ï", 'ї': "ï", 'Ґ': "G", 'ґ': "g",
}

// rewritten is one character written in another form.
type rewritten struct {
	r  rune
	as string
}

// fit returns s in the Windows-1252 repertoire and the characters it had to write otherwise.
func fit(s string) (string, []rewritten) {
	var b strings.Builder
	var changed []rewritten
	for _, r := range norm.NFC.String(s) {
		if inCP1252(r) {
			b.WriteRune(r)
			continue
		}
		as := transliterate(r)
		b.WriteString(as)
		changed = append(changed, rewritten{r, as})
	}
	return b.String(), changed
}

// transliterate writes one character outside Windows-1252 in it.
func transliterate(r rune) string {
	if as, ok := nearest[r]; ok && allCP1252(as) {
		return as
	}
	if !unicode.IsControl(r) {
		// A letter with marks: its base letter(s), if those are in the code page (or have a
		// nearest form) and the rest are marks.
		var base strings.Builder
		marks := 0
		for _, d := range norm.NFD.String(string(r)) {
			switch {
			case unicode.Is(unicode.Mn, d):
				marks++
			case inCP1252(d):
				base.WriteRune(d)
			default:
				if as, ok := nearest[d]; ok && allCP1252(as) {
					base.WriteString(as)
				} else {
					return codePoint(r)
				}
			}
		}
		if marks > 0 && base.Len() > 0 {
			return base.String()
		}
	}
	return codePoint(r)
}

func allCP1252(s string) bool {
	for _, r := range s {
		if !inCP1252(r) {
			return false
		}
	}
	return true
}

// codePoint writes r as its code point in guillemets: ‹U+4E2D›.
func codePoint(r rune) string { return fmt.Sprintf("‹U+%04X›", r) }
