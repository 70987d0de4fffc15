package chunkstore

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Compression names a vault's chunk compression setting.
type Compression string

// The compression settings. Auto is zstd at its fastest level, storing a
// chunk as is when compression would save less than 3 % of it.
const (
	CompressionAuto    Compression = "auto"
	CompressionBetter  Compression = "better"
	CompressionNone    Compression = "none"
	defaultCompression             = CompressionAuto
)

// ParseCompression validates a compression setting; "" means the default.
func ParseCompression(s string) (Compression, error) {
	switch Compression(s) {
	case "":
		return defaultCompression, nil
	case CompressionAuto, CompressionBetter, CompressionNone:
		return Compression(s), nil
	}
	return "", cairn.E(cairn.Invalid, fmt.Errorf("compression %q: must be auto, better or none", s))
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
		encByMode = map[Compression]*zstd.Encoder{
			CompressionAuto:   mk(zstd.SpeedFastest, 1<<22),
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
