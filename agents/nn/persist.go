package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Binary layout written by MarshalBinary, all integers little-endian:
//
//	"ISNN" | version u32 (=1) | hidden activation u32 | layer count+1 u32 |
//	sizes u32... | parameter count u64 | parameters f64...
const (
	binaryMagic   = "ISNN"
	binaryVersion = 1
)

// MarshalBinary encodes the shape, activation and parameters (not gradients or
// workspaces).
func (m *MLP) MarshalBinary() ([]byte, error) {
	if err := ValidateShape(m.Sizes, len(m.Params)); err != nil {
		return nil, err
	}
	if !m.Hidden.valid() {
		return nil, fmt.Errorf("nn: marshal: invalid activation %d", m.Hidden)
	}
	b := make([]byte, 0, 4+12+4*len(m.Sizes)+8+8*len(m.Params))
	b = append(b, binaryMagic...)
	b = binary.LittleEndian.AppendUint32(b, binaryVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Hidden))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.Sizes)))
	for _, s := range m.Sizes {
		b = binary.LittleEndian.AppendUint32(b, uint32(s))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(m.Params)))
	for _, p := range m.Params {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p))
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote into m, replacing its shape,
// activation and parameters and zeroing its gradients. The shape is validated (see
// ValidateShape) before anything is allocated.
func (m *MLP) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	if string(r.next(4)) != binaryMagic {
		return errors.New("nn: unmarshal: not an encoded network (bad magic)")
	}
	if v := r.u32(); v != binaryVersion {
		return fmt.Errorf("nn: unmarshal: version %d, want %d", v, binaryVersion)
	}
	hidden := Activation(r.u32())
	if !hidden.valid() {
		return fmt.Errorf("nn: unmarshal: invalid activation %d", hidden)
	}
	ns := r.u32()
	if ns < 2 || ns > MaxLayers+1 {
		return fmt.Errorf("nn: unmarshal: %d sizes, want 2 to %d", ns, MaxLayers+1)
	}
	sizes := make([]int, ns)
	for i := range sizes {
		sizes[i] = int(r.u32())
	}
	np := r.u64()
	if r.err != nil {
		return fmt.Errorf("nn: unmarshal header: %w", r.err)
	}
	if np > MaxParams {
		return fmt.Errorf("nn: unmarshal: %d parameters, at most %d allowed", np, MaxParams)
	}
	if err := ValidateShape(sizes, int(np)); err != nil {
		return fmt.Errorf("nn: unmarshal: %w", err)
	}
	if rest := len(data) - r.off; rest != 8*int(np) {
		return fmt.Errorf("nn: unmarshal: %d bytes of parameters, want %d", rest, 8*np)
	}
	nm := newMLP(sizes, hidden)
	for i := range nm.Params {
		nm.Params[i] = math.Float64frombits(r.u64())
	}
	*m = *nm
	return nil
}

type reader struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("unexpected end of data")

func (r *reader) next(n int) []byte {
	if r.err != nil || len(r.b)-r.off < n {
		r.err = errShort
		return make([]byte, n)
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.next(8)) }

// RestoreMLP overwrites dst's parameters with those of a MarshalBinary encoding of a
// network of the same shape, in place (dst's workspaces and anything sharing its
// Params stay valid).
func RestoreMLP(dst *MLP, b []byte) error {
	var m MLP
	if err := m.UnmarshalBinary(b); err != nil {
		return err
	}
	if len(m.Params) != len(dst.Params) || m.Hidden != dst.Hidden || fmt.Sprint(m.Sizes) != fmt.Sprint(dst.Sizes) {
		return fmt.Errorf("network of sizes %v (%s), want %v (%s)", m.Sizes, m.Hidden, dst.Sizes, dst.Hidden)
	}
	copy(dst.Params, m.Params)
	return nil
}

// Restore overwrites a's settings, step count and moments with src's, in place; src
// must be an optimiser over as many parameters.
func (a *Adam) Restore(src *Adam) error {
	if len(src.M) != len(a.M) || len(src.V) != len(a.V) {
		return fmt.Errorf("optimiser for %d parameters, want %d", len(src.M), len(a.M))
	}
	m, v := a.M, a.V
	*a = *src
	a.M, a.V = m, v
	copy(a.M, src.M)
	copy(a.V, src.V)
	return nil
}
