// Package jsonscan is the JSON scanner behind questlog's hand-written
// decoders (the wire event, Lambda's Kafka payload): they sit on the jobs'
// hot path, where encoding/json's reflection costs several times more. It
// follows encoding/json's rules (invalid UTF-8 becomes U+FFFD, lone
// surrogates too, numbers are checked against the JSON grammar); keys are
// compared exactly by the callers.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// ErrEOF is returned when the input ends inside a value.
var ErrEOF = errors.New("unexpected end of JSON")

// Scanner reads JSON values from Data, starting at Pos.
type Scanner struct {
	Data []byte
	Pos  int
	// Owned means Data is handed over and never modified: String may then
	// alias it instead of copying.
	Owned bool
	// Buf is scratch space for unescaping; keep it between uses to save
	// allocations.
	Buf []byte
}

// String returns b, a result of RawString, as a string: aliasing Data when
// it is owned and b is part of it (not unescaped into Buf), else a copy.
func (s *Scanner) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s.Owned && s.within(b) {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

func (s *Scanner) within(b []byte) bool {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(s.Data)))
	at := uintptr(unsafe.Pointer(&b[0]))
	return at >= start && at+uintptr(len(b)) <= start+uintptr(len(s.Data))
}

// Space skips whitespace.
func (s *Scanner) Space() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// End checks that only whitespace follows.
func (s *Scanner) End() error {
	s.Space()
	if s.Pos != len(s.Data) {
		return fmt.Errorf("unexpected data after the JSON value at byte %d", s.Pos)
	}
	return nil
}

// Peek returns the next byte that is not whitespace, without consuming it.
func (s *Scanner) Peek() (byte, error) {
	s.Space()
	if s.Pos >= len(s.Data) {
		return 0, ErrEOF
	}
	return s.Data[s.Pos], nil
}

// Expect consumes c, the next byte that is not whitespace.
func (s *Scanner) Expect(c byte) error {
	got, err := s.Peek()
	if err != nil {
		return err
	}
	if got != c {
		return fmt.Errorf("expected %q at byte %d, found %q", c, s.Pos, got)
	}
	s.Pos++
	return nil
}

// Members reads an object, calling field for each key with the scanner
// positioned at its value, which field must consume.
func (s *Scanner) Members(field func(key []byte) error) error {
	if err := s.Expect('{'); err != nil {
		return err
	}
	c, err := s.Peek()
	if err != nil {
		return err
	}
	if c == '}' {
		s.Pos++
		return nil
	}
	for {
		key, err := s.RawString()
		if err != nil {
			return err
		}
		if err := s.Expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

// Elements reads an array, calling elem with the scanner positioned at
// each element, which elem must consume.
func (s *Scanner) Elements(elem func() error) error {
	if err := s.Expect('['); err != nil {
		return err
	}
	c, err := s.Peek()
	if err != nil {
		return err
	}
	if c == ']' {
		s.Pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if done, err := s.next(']'); done || err != nil {
			return err
		}
	}
}

// next consumes the ',' between members or elements, or the closing byte.
func (s *Scanner) next(closing byte) (done bool, err error) {
	c, err := s.Peek()
	if err != nil {
		return false, err
	}
	s.Pos++
	switch c {
	case ',':
		return false, nil
	case closing:
		return true, nil
	}
	return false, fmt.Errorf("expected ',' or %q at byte %d, found %q", closing, s.Pos-1, c)
}

// Fold returns the name in names that key equals ignoring case, as
// encoding/json matches keys to fields when none matches exactly; "" when
// none does.
func Fold(key []byte, names []string) string {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return n
		}
	}
	return ""
}

// Null consumes a null literal if one comes next.
func (s *Scanner) Null() bool {
	if c, _ := s.Peek(); c == 'n' && len(s.Data)-s.Pos >= 4 && string(s.Data[s.Pos:s.Pos+4]) == "null" {
		s.Pos += 4
		return true
	}
	return false
}

// StringOrNull reads a string, or null (""); what names the value in the
// error when it is something else.
func (s *Scanner) StringOrNull(what []byte) (string, error) {
	if s.Null() {
		return "", nil
	}
	if c, err := s.Peek(); err != nil {
		return "", err
	} else if c != '"' {
		return "", fmt.Errorf("%s must be a string", what)
	}
	b, err := s.RawString()
	if err != nil {
		return "", err
	}
	return s.String(b), nil
}

// IntOrNull reads an integer, or null (0); what names the value in the
// error when it is something else.
func (s *Scanner) IntOrNull(what []byte) (int64, error) {
	if s.Null() {
		return 0, nil
	}
	if v, n, ok := smallInt(s.Data[s.Pos:]); ok {
		s.Pos += n
		return v, nil
	}
	start := s.Pos
	if err := s.Number(); err != nil {
		return 0, fmt.Errorf("%s must be an integer", what)
	}
	digits := s.Data[start:s.Pos]
	v, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, got %s", what, digits)
	}
	return v, nil
}

// smallInt parses the common integer at the start of b: an optional minus
// sign and up to 18 digits without a leading zero, followed by a byte that
// cannot continue a number. It returns the value and its length.
func smallInt(b []byte) (v int64, n int, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		n = 1
	}
	start := n
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	digits := n - start
	if digits == 0 || digits > 18 || digits > 1 && b[start] == '0' {
		return 0, 0, false
	}
	if n < len(b) && (b[n] == '.' || b[n] == 'e' || b[n] == 'E') {
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, n, true
}

// RawString reads a string and returns its unescaped bytes: a slice of
// Data when nothing needed unescaping, else of Buf, valid until the next
// call.
func (s *Scanner) RawString() ([]byte, error) {
	if err := s.Expect('"'); err != nil {
		return nil, err
	}
	start := s.Pos
	data, ascii := s.Data, true
	// Eight bytes at a time up to the first special byte: base64 record
	// values are kilobytes of plain ASCII.
	i := start
	for i+8 <= len(data) {
		if m := specialMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			break
		}
		i += 8
	}
	for ; i < len(data); i++ {
		c := data[i]
		if !stringSpecial[c] {
			continue
		}
		switch {
		case c == '"':
			s.Pos = i + 1
			str := data[start:i]
			if !ascii && !utf8.Valid(str) {
				return []byte(string([]rune(string(str)))), nil // invalid bytes become U+FFFD
			}
			return str, nil
		case c == '\\':
			s.Pos = i
			return s.escapedString(start)
		case c < 0x20:
			s.Pos = i
			return nil, fmt.Errorf("control character in string at byte %d", i)
		default: // not ASCII: check the whole string's UTF-8 at the end
			ascii = false
		}
	}
	s.Pos = len(data)
	return nil, ErrEOF
}

// specialMask has the high bit set in the bytes of w that are special: a
// quote, a backslash, a control character or not ASCII (the bit tricks of
// "haszero" and "hasless" from Bit Twiddling Hacks). Borrows can also set
// it in bytes above a special one, never below: the lowest set bit marks
// the first special byte.
func specialMask(w uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	zeroQuote := (quote - ones) &^ quote
	zeroBackslash := (backslash - ones) &^ backslash
	control := (w - ones*0x20) &^ w // borrows into the high bit of bytes below 0x20
	return (zeroQuote | zeroBackslash | control | w) & high
}

// stringSpecial marks the bytes that end the fast scan of a string.
var stringSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

func (s *Scanner) escapedString(start int) ([]byte, error) {
	s.Buf = append(s.Buf[:0], s.Data[start:s.Pos]...)
	for s.Pos < len(s.Data) {
		c := s.Data[s.Pos]
		switch {
		case c == '"':
			s.Pos++
			if !utf8.Valid(s.Buf) {
				s.Buf = []byte(string([]rune(string(s.Buf))))
			}
			return s.Buf, nil
		case c < 0x20:
			return nil, fmt.Errorf("control character in string at byte %d", s.Pos)
		case c != '\\':
			s.Buf = append(s.Buf, c)
			s.Pos++
			continue
		}
		if s.Pos+1 >= len(s.Data) {
			return nil, ErrEOF
		}
		esc := s.Data[s.Pos+1]
		s.Pos += 2
		switch esc {
		case '"', '\\', '/':
			s.Buf = append(s.Buf, esc)
		case 'b':
			s.Buf = append(s.Buf, '\b')
		case 'f':
			s.Buf = append(s.Buf, '\f')
		case 'n':
			s.Buf = append(s.Buf, '\n')
		case 'r':
			s.Buf = append(s.Buf, '\r')
		case 't':
			s.Buf = append(s.Buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, fmt.Errorf("invalid \\u escape at byte %d", s.Pos)
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if s.Pos+1 < len(s.Data) && s.Data[s.Pos] == '\\' && s.Data[s.Pos+1] == 'u' {
					save := s.Pos
					s.Pos += 2
					var ok2 bool
					if r2, ok2 = s.hex4(); !ok2 {
						return nil, fmt.Errorf("invalid \\u escape at byte %d", s.Pos)
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
					} else {
						s.Pos = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			s.Buf = utf8.AppendRune(s.Buf, r)
		default:
			return nil, fmt.Errorf("invalid escape \\%c at byte %d", esc, s.Pos-1)
		}
	}
	return nil, ErrEOF
}

func (s *Scanner) hex4() (rune, bool) {
	if s.Pos+4 > len(s.Data) {
		return 0, false
	}
	var r rune
	for _, c := range s.Data[s.Pos : s.Pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.Pos += 4
	return r, true
}

// Number consumes a JSON number.
func (s *Scanner) Number() error {
	s.Space()
	start := s.Pos
	if s.Pos < len(s.Data) && s.Data[s.Pos] == '-' {
		s.Pos++
	}
	digits := func() int {
		n := 0
		for s.Pos < len(s.Data) && s.Data[s.Pos] >= '0' && s.Data[s.Pos] <= '9' {
			s.Pos++
			n++
		}
		return n
	}
	intStart := s.Pos
	if n := digits(); n == 0 || (n > 1 && s.Data[intStart] == '0') {
		return fmt.Errorf("invalid number at byte %d", start)
	}
	if s.Pos < len(s.Data) && s.Data[s.Pos] == '.' {
		s.Pos++
		if digits() == 0 {
			return fmt.Errorf("invalid number at byte %d", start)
		}
	}
	if s.Pos < len(s.Data) && (s.Data[s.Pos] == 'e' || s.Data[s.Pos] == 'E') {
		s.Pos++
		if s.Pos < len(s.Data) && (s.Data[s.Pos] == '+' || s.Data[s.Pos] == '-') {
			s.Pos++
		}
		if digits() == 0 {
			return fmt.Errorf("invalid number at byte %d", start)
		}
	}
	return nil
}

// Skip consumes any JSON value, checking its syntax.
func (s *Scanner) Skip() error {
	return s.skipDepth(0)
}

func (s *Scanner) skipDepth(depth int) error {
	if depth > 64 {
		return errors.New("JSON nested too deeply")
	}
	c, err := s.Peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, err := s.RawString()
		return err
	case c == '{':
		return s.Members(func([]byte) error { return s.skipDepth(depth + 1) })
	case c == '[':
		return s.Elements(func() error { return s.skipDepth(depth + 1) })
	case c == '-' || c >= '0' && c <= '9':
		return s.Number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.Data)-s.Pos >= len(lit) && string(s.Data[s.Pos:s.Pos+len(lit)]) == lit {
			s.Pos += len(lit)
			return nil
		}
	}
	return fmt.Errorf("invalid value at byte %d", s.Pos)
}
