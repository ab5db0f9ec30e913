// Command gocheck writes the differential golden data used by the Rust
// test `go_golden` (src/codec/testdata/go_golden.txt). It is a verification aid
// only; the crate does not depend on Go.
//
// Run (here): go run . > ../../src/codec/testdata/go_golden.txt
//
// Go releases before 1.22 print backspace and form feed as \u0008 and
// \u000c; string outputs are rewritten to the short forms \b and \f that
// current Go uses, so the data is valid for Go >= 1.22 whichever toolchain
// produced it. Raw-message outputs are copied verbatim by Go (no rewrite).
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
)

func modernShortEscapes(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		if b[i] != '\\' {
			out = append(out, b[i])
			i++
			continue
		}
		if b[i+1] == 'u' {
			esc := string(b[i : i+6])
			switch esc {
			case `\u0008`:
				out = append(out, '\\', 'b')
			case `\u000c`:
				out = append(out, '\\', 'f')
			default:
				out = append(out, esc...)
			}
			i += 6
			continue
		}
		out = append(out, b[i:i+2]...)
		i += 2
	}
	return out
}

func encNoHTML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

var atoms = [][]byte{
	[]byte("a"), []byte("Z9"), []byte(" "), []byte("\""), []byte("\\"),
	[]byte("<"), []byte(">"), []byte("&"), {0}, {8}, {0x0c}, {'\n'}, {'\r'}, {'\t'},
	{0x1f}, {0x7f}, []byte("é"), []byte("\u2028"), []byte("\u2029"),
	{0xe2, 0x80}, {0xe2}, []byte("😀"), {0xf0, 0x9f}, {0xed, 0xa0, 0x80},
	{0xc0, 0x80}, {0xf4, 0x90, 0x80, 0x80}, []byte("\ufffd"), {0x80}, {0xbf}, {0xff},
	{0xe0, 0x9f, 0xbf}, {0xe0, 0xa0, 0x80}, {0xf0, 0x8f, 0xbf, 0xbf}, {0xf4, 0x8f, 0xbf, 0xbf},
}

func genBytes(r *rand.Rand) []byte {
	n := r.Intn(20)
	var b []byte
	for i := 0; i < n; i++ {
		if r.Intn(3) == 0 {
			b = append(b, byte(r.Intn(256)))
		} else {
			b = append(b, atoms[r.Intn(len(atoms))]...)
		}
	}
	return b
}

var rawStrAtoms = []string{
	"a", "Zz", " ", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0041`, `\u00e9`,
	`\u2028`, `\ud83d\ude00`, `\u0008`, "<", ">", "&", "é", "\u2028", "\u2029", "\xff", "\xe2\x80",
	"\x7f", ":", ",", "{", "]",
}

func ws(r *rand.Rand) string {
	opts := []string{"", "", "", " ", "\n", "\t", "\r\n  ", "  "}
	return opts[r.Intn(len(opts))]
}

func genRawString(r *rand.Rand) string {
	s := `"`
	n := r.Intn(6)
	for i := 0; i < n; i++ {
		s += rawStrAtoms[r.Intn(len(rawStrAtoms))]
	}
	return s + `"`
}

var nums = []string{"0", "-0", "1", "-1", "12.5", "1e10", "1E+2", "-3.25e-7", "0.0", "100000000000000000000000", "5e-324"}

func genRaw(r *rand.Rand, depth int) string {
	k := r.Intn(7)
	if depth > 4 {
		k = r.Intn(4)
	}
	switch k {
	case 0:
		return genRawString(r)
	case 1:
		return nums[r.Intn(len(nums))]
	case 2:
		return []string{"true", "false", "null"}[r.Intn(3)]
	case 3:
		return genRawString(r)
	case 4, 5:
		n := r.Intn(4)
		s := "{" + ws(r)
		for i := 0; i < n; i++ {
			if i > 0 {
				s += ws(r) + "," + ws(r)
			}
			s += genRawString(r) + ws(r) + ":" + ws(r) + genRaw(r, depth+1)
		}
		return s + ws(r) + "}"
	default:
		n := r.Intn(4)
		s := "[" + ws(r)
		for i := 0; i < n; i++ {
			if i > 0 {
				s += ws(r) + "," + ws(r)
			}
			s += genRaw(r, depth+1)
		}
		return s + ws(r) + "]"
	}
}

func mutate(r *rand.Rand, s string) string {
	if len(s) == 0 {
		return "x"
	}
	i := r.Intn(len(s))
	switch r.Intn(3) {
	case 0:
		return s[:i] + s[i+1:]
	case 1:
		c := []string{",", ":", "{", "}", "[", "]", `"`, "x", "0", "\x01", "\\"}[r.Intn(11)]
		return s[:i] + c + s[i:]
	default:
		return s[:i]
	}
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	r := rand.New(rand.NewSource(20240429))

	// Strings.
	emitS := func(b []byte) {
		h, err := json.Marshal(string(b))
		if err != nil {
			panic(err)
		}
		p, err := encNoHTML(string(b))
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(w, "S %s %s %s\n", hex.EncodeToString(b),
			hex.EncodeToString(modernShortEscapes(h)), hex.EncodeToString(modernShortEscapes(p)))
	}
	for i := 0; i < 256; i++ {
		emitS([]byte{byte(i)})
		emitS([]byte{byte(i), 0x80})
		emitS([]byte{0xe2, 0x80, byte(i)})
		emitS([]byte{0xf0, byte(i), 0x80, 0x80})
		emitS([]byte{0xed, byte(i), 0x80})
		emitS([]byte{0xe0, byte(i), 0x80})
		emitS([]byte{0xf4, byte(i), 0x80, 0x80})
	}
	for i := 0; i < 1500; i++ {
		emitS(genBytes(r))
	}

	// Floats.
	emitF := func(f float64) {
		js := "ERR"
		if b, err := json.Marshal(f); err == nil {
			js = string(b)
		}
		fmt.Fprintf(w, "F %016x %s %s\n", math.Float64bits(f), js, strconv.FormatFloat(f, 'g', -1, 64))
	}
	special := []float64{0, math.Copysign(0, -1), 1, 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789.125,
		5e-324, math.MaxFloat64, 3.0, -2.5, math.Inf(1), math.Inf(-1), math.NaN(), 1e6, 1e-4, 1e-5,
		100, 85.5, 1.25e-7, 2.2250738585072014e-308, 9007199254740993, 1.0 / 3}
	for _, f := range special {
		emitF(f)
		emitF(-f)
		emitF(math.Nextafter(f, math.Inf(1)))
		emitF(math.Nextafter(f, math.Inf(-1)))
	}
	for e := -325; e <= 309; e++ {
		p := math.Pow(10, float64(e))
		emitF(p)
		emitF(math.Nextafter(p, 0))
		emitF(math.Nextafter(p, math.Inf(1)))
		emitF(3 * p)
		emitF(1.5 * p)
	}
	for i := 0; i < 2000; i++ {
		emitF(math.Float64frombits(r.Uint64()))
	}
	for e := -1074; e <= 1023; e++ {
		emitF(math.Ldexp(1, e))
	}
	// Values with few fractional bits: exact decimal ties between two
	// shortest candidates are common here (e.g. 680279041106479.25).
	for e := -90; e <= 5; e++ {
		for i := 0; i < 40; i++ {
			m := r.Int63n(1<<52) | 1<<52
			emitF(math.Ldexp(float64(m), e))
			m2 := r.Int63n(1 << uint(1+r.Intn(52)))
			emitF(math.Ldexp(float64(m2), e))
		}
	}
	for i := 0; i < 1200; i++ {
		// Short decimals at random scales.
		m := float64(r.Int63n(1_000_000)) * math.Pow(10, float64(r.Intn(40)-25))
		emitF(m)
		emitF(float64(r.Int63()))
		emitF(float64(r.Int63n(1<<53)) / float64(int64(1)<<uint(r.Intn(60))))
	}

	// Raw messages.
	emitR := func(raw string) {
		in := hex.EncodeToString([]byte(raw))
		p, err := json.MarshalIndent([]json.RawMessage{json.RawMessage(raw)}, "", "  ")
		if err != nil {
			fmt.Fprintf(w, "R %s ERR ERR\n", in)
			return
		}
		c, err := encNoHTML([]json.RawMessage{json.RawMessage(raw)})
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(w, "R %s %s %s\n", in, hex.EncodeToString(p), hex.EncodeToString(c))
	}
	for i := 0; i < 800; i++ {
		raw := ws(r) + genRaw(r, 0) + ws(r)
		emitR(raw)
		emitR(mutate(r, raw))
	}
	for _, raw := range []string{"", " ", "1 2", "01", "-", "1.", ".5", "1e", "+1", "NaN", "tru", "nulll",
		`"a`, "\"\x01\"", `"\x"`, `"\u12g4"`, "[1,]", "{\"a\":1,}", "{1:2}", "[}", "{]", "[[[]]]", "{}", "[]"} {
		emitR(raw)
	}
}
