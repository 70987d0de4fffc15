package imagegen

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"time"
)

// subSeed derives a 32-byte seed for the part named label from the run seed.
func subSeed(seed uint64, label string) [32]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("cairnbench/%d/%s", seed, label)))
}

// NewRand returns a deterministic PCG generator for the part named label.
func NewRand(seed uint64, label string) *rand.Rand {
	s := subSeed(seed, label)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:16])))
}

// NewRandomStream returns a deterministic ChaCha8 stream for incompressible
// data of the part named label; its Read fills any buffer.
func NewRandomStream(seed uint64, label string) *rand.ChaCha8 {
	return rand.NewChaCha8(subSeed(seed, label))
}

// LogKind selects the format of generated log lines.
type LogKind int

// The kinds of log.
const (
	Syslog    LogKind = iota // BSD syslog lines from systemd, cron, kernel and an app
	AuthLog                  // sshd and sudo lines
	AccessLog                // nginx combined access log
	KernLog                  // kernel ring buffer lines
)

// LogGen produces syslog-like text lines with timestamps that advance.
type LogGen struct {
	kind LogKind
	r    *rand.Rand
	now  time.Time
	up   float64 // seconds since boot, for kernel lines
	pend []byte  // the rest of a line that did not fit the last Fill
}

// NewLogGen returns a generator of kind's lines, seeded by seed and label,
// whose clock starts at start.
func NewLogGen(kind LogKind, seed uint64, label string, start time.Time) *LogGen {
	return &LogGen{kind: kind, r: NewRand(seed, label), now: start, up: 12.5}
}

var (
	hosts    = []string{"web01", "web01", "web01", "web01-worker"}
	users    = []string{"deploy", "root", "backup", "alice", "bob", "ci-runner", "postgres"}
	units    = []string{"nginx.service", "cairn-agent.service", "postgresql@15-main.service", "cron.service", "ssh.service", "logrotate.service", "apt-daily.service", "fstrim.service"}
	paths    = []string{"/api/v1/orders", "/api/v1/customers", "/api/v1/products", "/static/app.js", "/static/style.css", "/health", "/login", "/cart", "/checkout", "/images/p"}
	methods  = []string{"GET", "GET", "GET", "GET", "POST", "PUT", "DELETE"}
	statuses = []int{200, 200, 200, 200, 200, 200, 304, 301, 404, 500, 201, 204}
	agents   = []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"curl/7.88.1", "Prometheus/2.45.0", "kube-probe/1.29", "python-requests/2.31.0",
	}
	appMsgs   = []string{"order created", "order paid", "payment authorized", "cache miss", "request completed", "session refreshed", "inventory reserved", "email queued"}
	kernMsgs  = []string{"EXT4-fs (vda1): re-mounted. Quota mode: none.", "virtio_net virtio0 ens3: renamed from eth0", "audit: type=1400 audit(%d.%03d:%d): apparmor=\"STATUS\" operation=\"profile_load\" profile=\"unconfined\" name=\"nginx\" pid=%d comm=\"apparmor_parser\"", "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.", "systemd-journald[%d]: Data hash table of /var/log/journal/system.journal has a fill level at 75.0 (%d of %d items), suggesting rotation.", "nf_conntrack: default automatic helper assignment has been turned off for security reasons"}
	b64Chars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	hexDigits = "0123456789abcdef"
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (g *LogGen) ip() string {
	return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(4), g.r.IntN(16), 1+g.r.IntN(250))
}

func (g *LogGen) token(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// line appends one line, with its newline, to b.
func (g *LogGen) line(b []byte) []byte {
	step := time.Duration(g.r.ExpFloat64() * float64(40*time.Millisecond))
	g.now = g.now.Add(step)
	g.up += step.Seconds()
	host := pick(g.r, hosts)
	stamp := g.now.Format(time.Stamp)
	switch g.kind {
	case AccessLog:
		return fmt.Appendf(b, "%s - - [%s] \"%s %s/%d HTTP/1.1\" %d %d \"-\" \"%s\" rt=%.3f\n",
			g.ip(), g.now.Format("02/Jan/2006:15:04:05 -0700"), pick(g.r, methods), pick(g.r, paths), g.r.IntN(100000),
			pick(g.r, statuses), 200+g.r.IntN(60000), pick(g.r, agents), g.r.ExpFloat64()*0.05)
	case AuthLog:
		pid := 1000 + g.r.IntN(60000)
		switch g.r.IntN(4) {
		case 0:
			return fmt.Appendf(b, "%s %s sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s\n",
				stamp, host, pid, pick(g.r, users), g.ip(), 30000+g.r.IntN(35000), g.token(43, b64Chars))
		case 1:
			return fmt.Appendf(b, "%s %s sshd[%d]: pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)\n",
				stamp, host, pid, pick(g.r, users), 1000+g.r.IntN(10))
		case 2:
			return fmt.Appendf(b, "%s %s sudo: %s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=/usr/bin/systemctl restart %s\n",
				stamp, host, pick(g.r, users), g.r.IntN(4), pick(g.r, users), pick(g.r, units))
		default:
			return fmt.Appendf(b, "%s %s systemd-logind[%d]: New session %d of user %s.\n",
				stamp, host, 400+g.r.IntN(100), g.r.IntN(100000), pick(g.r, users))
		}
	case KernLog:
		msg := pick(g.r, kernMsgs)
		switch msg[0] {
		case 'a':
			msg = fmt.Sprintf(msg, g.now.Unix(), g.r.IntN(1000), g.r.IntN(1000), g.r.IntN(40000))
		case 's':
			msg = fmt.Sprintf(msg, 200+g.r.IntN(200), g.r.IntN(300000), 300000)
		}
		return fmt.Appendf(b, "%s %s kernel: [%12.6f] %s\n", stamp, host, g.up, msg)
	default:
		switch g.r.IntN(5) {
		case 0:
			return fmt.Appendf(b, "%s %s systemd[1]: Started %s - %s.\n", stamp, host, pick(g.r, units), "Session "+strconv.Itoa(g.r.IntN(9000)))
		case 1:
			return fmt.Appendf(b, "%s %s CRON[%d]: (%s) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n",
				stamp, host, 1000+g.r.IntN(60000), pick(g.r, users))
		default:
			return fmt.Appendf(b, "%s %s orders[%d]: level=info ts=%s caller=orders.go:%d msg=%q order_id=%d customer=%d amount=%d.%02d trace_id=%s duration_ms=%d\n",
				stamp, host, 812, g.now.UTC().Format("2006-01-02T15:04:05.000Z"), 100+g.r.IntN(300), pick(g.r, appMsgs),
				g.r.IntN(5000000), g.r.IntN(200000), g.r.IntN(2000), g.r.IntN(100), g.token(32, hexDigits), g.r.IntN(400))
		}
	}
}

// Fill fills p entirely with log lines; a line cut at the end of p goes on
// at the start of the next Fill.
func (g *LogGen) Fill(p []byte) {
	n := copy(p, g.pend)
	g.pend = g.pend[n:]
	var line []byte
	for n < len(p) {
		line = g.line(line[:0])
		c := copy(p[n:], line)
		n += c
		if c < len(line) {
			g.pend = append(g.pend[:0], line[c:]...)
		}
	}
}

// PageSize is the size of a database page.
const PageSize = 8192

// DBGen produces 8 KiB pages laid out like PostgreSQL heap pages: a page
// header, line pointers, and tuples with structured order records filled in
// from the end of the page.
type DBGen struct {
	seed uint64
}

// NewDBGen returns a page generator seeded by seed.
func NewDBGen(seed uint64) *DBGen { return &DBGen{seed: seed} }

var (
	firstNames = []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yuki", "Zhang", "Ingrid", "Mateo", "Priya"}
	lastNames  = []string{"Smith", "Johnson", "Garcia", "Müller", "Rossi", "Tanaka", "Nguyen", "Kowalski", "Silva", "Dubois", "Andersson", "Okafor", "Kim", "Novak", "Haddad", "O'Brien"}
	streets    = []string{"Oak Street", "Maple Avenue", "Hauptstraße", "Rue de Rivoli", "Elm Drive", "Sunset Blvd", "Via Roma", "King Street", "Calle Mayor", "Birch Lane"}
	cities     = []string{"Springfield, IL 62704", "Berlin 10115", "Paris 75001", "Austin, TX 73301", "Milano 20121", "Toronto ON M5H", "Madrid 28013", "Osaka 530-0001"}
	orderState = []string{"pending", "paid", "paid", "shipped", "shipped", "delivered", "delivered", "delivered", "refunded", "cancelled"}
	notes      = []string{"", "", "", "", "gift wrap", "leave at door", "call before delivery", "fragile: glassware inside", "express shipping requested by customer support ticket"}
)

// Page writes page number pageNo, as of version (0 for the original
// image, higher for later rewrites), into buf, which must be PageSize
// bytes.
func (g *DBGen) Page(pageNo int64, version int, buf []byte) {
	clear(buf)
	r := NewRand(g.seed, fmt.Sprintf("db/page/%d/v%d", pageNo, version))
	le := binary.LittleEndian
	lower, upper := 24, PageSize
	fill := PageSize - r.IntN(PageSize/8) // fill factor 88–100 %
	var tup []byte
	for i := 0; ; i++ {
		tup = g.tuple(tup[:0], r, pageNo, i, version)
		size := (len(tup) + 7) &^ 7
		if upper-size < lower+4 || PageSize-(upper-size) > fill {
			break
		}
		upper -= size
		copy(buf[upper:], tup)
		le.PutUint32(buf[lower:], uint32(upper)|1<<15|uint32(len(tup))<<17)
		lower += 4
	}
	le.PutUint64(buf[0:], uint64(0x16_0000_0000)+uint64(pageNo)*4096+uint64(version)<<32) // pd_lsn
	le.PutUint16(buf[10:], 0)                                                             // pd_flags
	le.PutUint16(buf[12:], uint16(lower))
	le.PutUint16(buf[14:], uint16(upper))
	le.PutUint16(buf[16:], PageSize)
	le.PutUint16(buf[18:], PageSize|4)
	le.PutUint32(buf[20:], uint32(740+version))
	le.PutUint16(buf[8:], uint16(crc32.ChecksumIEEE(buf)))
}

func (g *DBGen) tuple(b []byte, r *rand.Rand, pageNo int64, i, version int) []byte {
	le := binary.LittleEndian
	var hdr [24]byte
	le.PutUint32(hdr[0:], uint32(1000+pageNo/16+int64(version)*7919)) // xmin
	le.PutUint32(hdr[8:], 0)                                          // cid
	le.PutUint32(hdr[12:], uint32(pageNo))                            // ctid block
	le.PutUint16(hdr[16:], uint16(i+1))                               // ctid offset
	le.PutUint16(hdr[18:], 9)                                         // natts
	le.PutUint16(hdr[20:], 0x0902)                                    // infomask
	hdr[22] = 24                                                      // hoff
	b = append(b, hdr[:]...)
	id := pageNo*64 + int64(i)
	b = le.AppendUint64(b, uint64(id))
	b = le.AppendUint32(b, uint32(r.IntN(200000)))
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * 37 * time.Second)
	b = le.AppendUint64(b, uint64(created.UnixMicro()))
	b = le.AppendUint64(b, uint64(100+r.IntN(50000))) // amount in cents
	b = le.AppendUint16(b, uint16(1+r.IntN(12)))      // quantity
	text := func(s string) {
		b = append(b, byte(len(s)<<1|1))
		b = append(b, s...)
	}
	first, last := pick(r, firstNames), pick(r, lastNames)
	text(pick(r, orderState))
	text(fmt.Sprintf("%s %s", first, last))
	text(fmt.Sprintf("%s.%s%d@example.com", toLower(first), toLower(last), r.IntN(1000)))
	text(fmt.Sprintf("%d %s, %s", 1+r.IntN(9999), pick(r, streets), pick(r, cities)))
	text(fmt.Sprintf("SKU-%05d", r.IntN(40000)))
	text(pick(r, notes))
	return b
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		} else if c == '\'' {
			b[i] = '-'
		}
	}
	return string(b)
}
