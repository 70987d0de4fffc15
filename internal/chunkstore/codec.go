package chunkstore

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Compression names a vault's chunk compression setting.
type Compression string

// The compression settings. Every setting stores a chunk as is when
// compression would save less than 3 % of it.
//
// Auto compresses with S2; a chunk that S2 shrinks more than 3 times
// (text, logs, sparse tables) is compressed with zstd at its fastest level
// instead, where that is smaller. On a VM image (see the README) this
// stores 12 % more than zstd alone at 1.7 times its speed; S2 alone would
// be faster still but 16 % larger. Zstd is zstd's fastest level for every
// chunk; Better is zstd's default level.
const (
	CompressionAuto    Compression = "auto"
	CompressionZstd    Compression = "zstd"
	CompressionBetter  Compression = "better"
	CompressionNone    Compression = "none"
	defaultCompression             = CompressionAuto

	// autoZstdRatio is how much S2 must shrink a chunk for auto to try
	// zstd on it.
	autoZstdRatio = 3
)

// ParseCompression validates a compression setting; "" means the default.
func ParseCompression(s string) (Compression, error) {
	switch Compression(s) {
	case "":
		return defaultCompression, nil
	case CompressionAuto, CompressionZstd, CompressionBetter, CompressionNone:
		return Compression(s), nil
	}
	return "", cairn.E(cairn.Invalid, fmt.Errorf("compression %q: must be auto, zstd, better or none", s))
}

var (
	encOnce   sync.Once
	encByMode map[Compression]*zstd.Encoder
	decoder   *zstd.Decoder
	smallEnc  *zstd.Encoder
)

func initCodecs() {
	encOnce.Do(func() {
		n := runtime.GOMAXPROCS(0)
		mk := func(level zstd.EncoderLevel, window int) *zstd.Encoder {
			e, err := zstd.NewWriter(nil,
				zstd.WithEncoderLevel(level),
				zstd.WithEncoderConcurrency(n),
				zstd.WithEncoderCRC(false),
				zstd.WithZeroFrames(true),
				zstd.WithWindowSize(window),
				zstd.WithLowerEncoderMem(true),
			)
			if err != nil {
				panic(err)
			}
			return e
		}
		fastest := mk(zstd.SpeedFastest, 1<<22)
		encByMode = map[Compression]*zstd.Encoder{
			CompressionAuto:   fastest,
			CompressionZstd:   fastest,
			CompressionBetter: mk(zstd.SpeedDefault, 1<<22),
		}
		smallEnc = mk(zstd.SpeedDefault, 1<<22)
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(n), zstd.WithDecoderMaxMemory(1<<30), zstd.IgnoreChecksum(true))
		if err != nil {
			panic(err)
		}
		decoder = d
	})
}

// compressSmall compresses metadata; nil when that does not help.
func compressSmall(data []byte) []byte {
	initCodecs()
	c := smallEnc.EncodeAll(data, make([]byte, 0, len(data)/2+64))
	if len(c) >= len(data) {
		return nil
	}
	return c
}

// decode returns the plaintext of payload encoded with codec, appending to
// dst; max bounds the decoded size.
func decode(codec byte, payload, dst []byte, max int) ([]byte, error) {
	switch codec {
	case codecNone:
		return append(dst, payload...), nil
	case codecS2:
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("s2: %w", err))
		}
		if n > max {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("s2: decoded size %d is more than the limit %d", n, max))
		}
		start := len(dst)
		dst = slices.Grow(dst, n)
		out, err := s2.Decode(dst[start:start+n], payload)
		if err != nil {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("s2: %w", err))
		}
		return dst[:start+len(out)], nil
	case codecZstd:
		initCodecs()
		out, err := decoder.DecodeAll(payload, dst)
		if err != nil {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("zstd: %w", err))
		}
		if len(out)-len(dst) > max {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("decoded %d bytes, more than the limit %d", len(out)-len(dst), max))
		}
		return out, nil
	}
	return nil, cairn.E(cairn.Corrupt, fmt.Errorf("unknown codec %d", codec))
}
