"""A simulated ESP32 dev board, seen from its USB-serial bridge.

Test fixture for ttyrfc (not product code). What is modelled:

* The auto-reset circuit of ESP32 dev boards: two transistors driven by the
  bridge's DTR and RTS.  DTR=1,RTS=0 pulls IO0 low; DTR=0,RTS=1 pulls EN low;
  equal levels leave both high.  EN has an RC delay on real boards: the chip
  leaves reset only after EN has been high for ``en_delay`` seconds (default 10 ms,
  like the datasheet's 10 kOhm / 1 uF on CHIP_PU) and latches IO0 (the boot strap)
  at that moment. Any EN low time of a millisecond or more resets the chip (the
  transistor empties that capacitor in a fraction of a millisecond); the model
  resets on any EN low.  IO0 low -> ROM serial bootloader
  ("waiting for download"), IO0 high -> boots the "app" from flash, which prints
  an ESP-IDF-like boot log and then a line every ``tick`` seconds.
* The UART wire: bytes take 10 bits of time each at the sender's baud rate
  (``pace``), and a receiver set to another baud rate (more than 3 % off) gets
  garbage, in both directions.  The host side's baud rate is the bridge's
  (what pyserial / the RFC 2217 server sets); the chip's is 115200 after reset
  and changed only by CHANGE_BAUDRATE.
* The ROM bootloader and the flasher stub protocol of esptool 4.7 for
  ``--chip esp32``: SLIP framing and SYNC, READ_REG, WRITE_REG (with the SPI
  "user command" registers esptool uses to read the flash ID), SPI_SET_PARAMS,
  SPI_ATTACH, CHANGE_BAUDRATE, MEM_BEGIN/DATA/END (any code loaded and started
  with MEM_END is taken to be the flasher stub, which greets with "OHAI"),
  FLASH_BEGIN/DATA/END, FLASH_DEFL_BEGIN/DATA/END (zlib), SPI_FLASH_MD5,
  READ_FLASH_SLOW (ROM), ERASE_FLASH, ERASE_REGION, READ_FLASH (stub) over a
  NOR flash image (4 MiB; writes can only clear bits, erases set 0xFF).
  Data checksums are checked; ROM replies carry 4 status bytes, the stub's 2.

Events (resets, boot mode, baud changes, flash operations) are kept in
``Board.events`` and optionally appended to a file, one line each, so tests can
check what the board saw.
"""
import collections
import hashlib
import os
import struct
import threading
import time
import zlib

FLASH_SIZE = 4 << 20
SECTOR = 4096
ROM_BAUD = 115200
XTAL = 40_000_000

# esptool's command opcodes
SYNC, READ_REG, WRITE_REG = 0x08, 0x0A, 0x09
FLASH_BEGIN, FLASH_DATA, FLASH_END = 0x02, 0x03, 0x04
MEM_BEGIN, MEM_END, MEM_DATA = 0x05, 0x06, 0x07
SPI_SET_PARAMS, SPI_ATTACH, READ_FLASH_SLOW, CHANGE_BAUDRATE = 0x0B, 0x0D, 0x0E, 0x0F
FLASH_DEFL_BEGIN, FLASH_DEFL_DATA, FLASH_DEFL_END, SPI_FLASH_MD5 = 0x10, 0x11, 0x12, 0x13
GET_SECURITY_INFO = 0x14
ERASE_FLASH, ERASE_REGION, READ_FLASH, RUN_USER_CODE = 0xD0, 0xD1, 0xD2, 0xD3

# ROM error codes (second status byte)
ERR_INVALID_MSG, ERR_FAILED, ERR_INVALID_CRC, ERR_FLASH_WRITE = 0x05, 0x06, 0x07, 0x08
ERR_FLASH_READ, ERR_INVALID_LEN, ERR_DEFLATE = 0x09, 0x0A, 0x0B

# registers esptool reads on an ESP32
CHIP_DETECT_MAGIC_REG = 0x40001000
EFUSE_BASE = 0x3FF5A000
APB_CTL_DATE = 0x3FF6607C
UART_CLKDIV_REG = 0x3FF40014
RTCCALICFG1 = 0x3FF5F06C
SPI_BASE = 0x3FF42000
SPI_CMD, SPI_ADDR, SPI_USR, SPI_USR1, SPI_USR2 = (SPI_BASE + o for o in (0, 4, 0x1C, 0x20, 0x24))
SPI_W0 = SPI_BASE + 0x80
SPI_CMD_USR = 1 << 18
FLASH_JEDEC_ID = 0x1640EF          # Winbond W25Q32: 4 MiB ("size id" 0x16)

ROM_BANNER = b"ets Jun  8 2016 00:22:57\r\n\r\n"


def slip(payload):
    return b"\xc0" + payload.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


def checksum(data, state=0xEF):
    for b in data:
        state ^= b
    return state


class _Chunk:
    __slots__ = ("t", "data", "baud")

    def __init__(self, t, data, baud):
        self.t, self.data, self.baud = t, data, baud


def _baud_ok(sent, recv):
    return abs(sent - recv) <= 0.03 * recv


def _garble(data, seed):
    """What a UART set to the wrong speed makes of DATA: noise, about as long."""
    h = hashlib.sha256(seed.to_bytes(8, "little") + data).digest()
    return bytes(h[i % 32] ^ (i * 37 & 0xFF) for i in range(len(data)))


class Board:
    def __init__(self, flash_file=None, events_file=None, mac=(0x24, 0x0A, 0xC4, 0x5E, 0x11, 0x42),
                 en_delay=0.010, pace=True, tick=0.5, name="esp32sim"):
        self.name = name
        self.pace = pace
        self.en_delay = en_delay
        self.tick = tick
        self.mac = bytes(mac)
        self.flash_file = flash_file
        self.flash = bytearray(b"\xff" * FLASH_SIZE)
        if flash_file and os.path.exists(flash_file):
            with open(flash_file, "rb") as f:
                data = f.read(FLASH_SIZE)
            self.flash[: len(data)] = data
        self.events = []
        self._events_f = open(events_file, "a", buffering=1) if events_file else None
        self.t0 = time.monotonic()
        self.cv = threading.Condition()
        # host (bridge) side
        self.dtr = False
        self.rts = False
        self.line_baud = ROM_BAUD
        self.rxq = collections.deque()   # host -> chip, _Chunk
        self.txq = collections.deque()   # chip -> host, _Chunk
        self.rx_cursor = 0.0
        self.tx_cursor = 0.0
        self.host_buf = bytearray()      # bytes already received by the bridge
        self._seed = 0
        # chip side
        self.en_high = True
        self.io0_high = True
        self.io0_hist = [(0.0, True)]
        self.release_at = None
        self._batch_depth = 0
        self._batch_t = 0.0
        self.mode = "app"                # reset | rom | stub | app
        self.chip_baud = ROM_BAUD
        self.boots = 0
        self.next_tick = None
        self.tick_n = 0
        self.app_line = bytearray()
        self._slip_buf = None
        self._slip_esc = False
        self.regs = {}
        self.flash_op = None
        self.app_size = 0                # length of the last write at 0x10000
        self.stats = collections.Counter()
        self._reset_chip_state()
        self._stop = False
        self._thr = threading.Thread(target=self._run, name="esp32sim", daemon=True)
        self._thr.start()
        with self.cv:
            self._boot("app", power_on=True)

    # ------------------------------------------------------------------ events
    def event(self, msg):
        t = time.monotonic() - self.t0
        line = "%.3f %s" % (t, msg)
        self.events.append(line)
        if self._events_f:
            self._events_f.write(line + "\n")

    # ------------------------------------------------------------- host side
    def batch(self, t=None):
        """Context manager for a server: line changes made inside it are stamped
        t, t+1 ms, t+2 ms ... (default t = now), as if applied back to back by a
        USB bridge (one control transfer each), however slowly the (Python) server
        really gets to them. The chip does not leave reset while a batch is open,
        so IO0 is latched from these stamped times, not from server scheduling."""
        return _Batch(self, time.monotonic() if t is None else t)

    def set_lines(self, dtr=None, rts=None):
        with self.cv:
            now = time.monotonic()
            if self._batch_depth:
                at = self._batch_t
                self._batch_t += 0.001
            else:
                at = now
            old = (self.dtr, self.rts)
            if dtr is not None:
                self.dtr = bool(dtr)
            if rts is not None:
                self.rts = bool(rts)
            if (self.dtr, self.rts) == old:
                return
            self.event("lines DTR=%d RTS=%d" % (self.dtr, self.rts))
            io0_high = not (self.dtr and not self.rts)
            en_high = not (self.rts and not self.dtr)
            if io0_high != self.io0_high:
                self.io0_high = io0_high
                self.io0_hist.append((at, io0_high))
                del self.io0_hist[:-32]
            if en_high != self.en_high:
                self.en_high = en_high
                if not en_high:
                    self._enter_reset(now)
                else:
                    self.release_at = at + self.en_delay
            self.cv.notify_all()

    def _io0_high_at(self, t):
        level = True
        for at, high in self.io0_hist:
            if at > t:
                break
            level = high
        return level

    def set_line_baud(self, baud):
        with self.cv:
            self._latch_host(time.monotonic())
            if baud != self.line_baud:
                self.event("host-baud %d" % baud)
            self.line_baud = int(baud)

    def _wire_time(self, n, baud):
        return n * 10.0 / baud if self.pace else 0.0

    def host_write(self, data, timeout=None):
        """The bridge transmits DATA at line_baud; blocks while > 4 KiB are queued."""
        data = bytes(data)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cv:
            for i in range(0, len(data), 64):
                piece = data[i:i + 64]
                while self.pace and sum(len(c.data) for c in self.rxq) > 4096:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return i
                    self.cv.notify_all()          # wake the chip to drain the queue
                    self.cv.wait(0.05 if left is None else min(left, 0.05))
                now = time.monotonic()
                self.rx_cursor = max(now, self.rx_cursor) + self._wire_time(len(piece), self.line_baud)
                self.rxq.append(_Chunk(self.rx_cursor, piece, self.line_baud))
                self.stats["host_tx"] += len(piece)
                if len(self.rxq) == 1:
                    self.cv.notify_all()
            self.cv.notify_all()
        return len(data)

    def _latch_host(self, now):
        while self.txq and self.txq[0].t <= now:
            c = self.txq.popleft()
            if _baud_ok(c.baud, self.line_baud):
                self.host_buf += c.data
            else:
                self._seed += 1
                self.host_buf += _garble(c.data, self._seed)
                self.stats["host_garbled"] += len(c.data)

    def host_in_waiting(self):
        with self.cv:
            self._latch_host(time.monotonic())
            return len(self.host_buf)

    def host_read(self, size, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cv:
            while True:
                now = time.monotonic()
                self._latch_host(now)
                if len(self.host_buf) >= size or (timeout is not None and now >= deadline):
                    break
                waits = [0.5]
                if self.txq:
                    waits.append(self.txq[0].t - now)
                if deadline is not None:
                    waits.append(deadline - now)
                self.cv.wait(max(0.0005, min(waits)))
            out = bytes(self.host_buf[:size])
            del self.host_buf[:size]
            return out

    def host_purge_input(self):
        with self.cv:
            self._latch_host(time.monotonic())
            self.host_buf.clear()

    def host_purge_output(self):
        with self.cv:
            now = time.monotonic()
            while self.rxq and self.rxq[-1].t > now:
                self.rxq.pop()
            self.rx_cursor = now
            self.cv.notify_all()

    def close(self):
        with self.cv:
            self._stop = True
            self.cv.notify_all()
        self._thr.join(2)
        self.save()

    def save(self):
        if self.flash_file:
            tmp = self.flash_file + ".tmp"
            with open(tmp, "wb") as f:
                f.write(self.flash)
            os.replace(tmp, self.flash_file)

    # ------------------------------------------------------------- chip side
    def _tx(self, data):
        """The chip's UART sends DATA at chip_baud (caller holds cv)."""
        if self.mode == "reset":
            return
        now = time.monotonic()
        for i in range(0, len(data), 64):
            piece = data[i:i + 64]
            self.tx_cursor = max(now, self.tx_cursor) + self._wire_time(len(piece), self.chip_baud)
            self.txq.append(_Chunk(self.tx_cursor, piece, self.chip_baud))
        self.stats["chip_tx"] += len(data)
        self.cv.notify_all()

    def _enter_reset(self, now):
        # bytes still in the chip's FIFO are lost; what already left stays
        self._latch_host(now)
        self.txq.clear()
        self.tx_cursor = now
        if self.mode != "reset":
            self.event("reset (EN low)")
        self.mode = "reset"
        self.release_at = None
        self.next_tick = None

    def _reset_chip_state(self):
        self.chip_baud = ROM_BAUD
        self.regs = {
            CHIP_DETECT_MAGIC_REG: 0x00F01D83,
            EFUSE_BASE + 4 * 1: int.from_bytes(self.mac[2:6], "big"),
            EFUSE_BASE + 4 * 2: (0xA5 << 24) | (self.mac[0] << 8) | self.mac[1] | (0x00 << 16),
            # pkg 1 (D0WD), rev bit0, 240 MHz rated
            EFUSE_BASE + 4 * 3: (1 << 15) | (1 << 13) | (1 << 9),
            EFUSE_BASE + 4 * 4: 100,          # CK8M freq: ROM xtal estimate = 40 MHz
            EFUSE_BASE + 4 * 5: 1 << 20,      # rev bit1
            APB_CTL_DATE: 0x80000000 | 0x16042000,   # rev bit2 -> v3.0
            RTCCALICFG1: 1024 << 7,
            SPI_USR2: 0x70000000,
        }
        self._slip_buf = None
        self._slip_esc = False
        self.mem_op = None
        self.read_op = None
        self.stub_code = {}

    def _boot(self, how, power_on=False, software=False):
        """Leave reset (caller holds cv). HOW: 'strap' (latch IO0), 'app', 'rom'."""
        if how == "strap":
            how = "app" if self.io0_high_latched else "rom"
        self._close_flash_op()
        self._reset_chip_state()
        self.mode = how
        self.boots += 1
        self.rxq.clear()
        self.rx_cursor = time.monotonic()
        self.app_line = bytearray()
        rst = "0xc (SW_CPU_RESET)" if software else "0x1 (POWERON_RESET)"
        if how == "rom":
            self.event("boot %d: download mode (ROM bootloader)" % self.boots)
            self._tx(ROM_BANNER + b"rst:" + rst.encode() +
                     b",boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
                     b"waiting for download\r\n")
        else:
            self.event("boot %d: flash (app)" % self.boots)
            size = self.app_size if self.app_size else 0x100000
            self.app_md5 = hashlib.md5(self.flash[0x10000:0x10000 + size]).hexdigest()
            self._tx(ROM_BANNER + b"rst:" + rst.encode() + b",boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
                     b"configsip: 0, SPIWP:0xee\r\n"
                     b"clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n"
                     b"mode:DIO, clock div:2\r\n"
                     b"load:0x3fff0030,len:7000\r\nload:0x40078000,len:15452\r\n"
                     b"entry 0x40080650\r\n"
                     b"I (29) boot: ESP-IDF v5.1 2nd stage bootloader (simulated by ttyrfc tests)\r\n"
                     b"I (31) boot: chip revision: v3.0\r\n"
                     b"I (40) boot: Loaded app from partition at offset 0x10000\r\n" +
                     ("I (45) sim_app: app image at 0x10000: %d bytes, md5 %s\r\n" %
                      (size, self.app_md5)).encode() +
                     b"I (50) main_task: Calling app_main()\r\n"
                     b"Hello from the simulated ESP32!\r\n")
            self.tick_n = 0
            self.next_tick = time.monotonic() + self.tick if self.tick > 0 else None

    def _run(self):
        with self.cv:
            while not self._stop:
                now = time.monotonic()
                if self.release_at is not None and now >= self.release_at and not self._batch_depth:
                    self.io0_high_latched = self._io0_high_at(self.release_at)
                    self.release_at = None
                    self._boot("strap")
                    continue
                if self.next_tick is not None and now >= self.next_tick and self.mode == "app":
                    self.tick_n += 1
                    self._tx(b"I (%d) sim_app: tick %d, boot %d\r\n" %
                             (int((now - self.t0) * 1000), self.tick_n, self.boots))
                    self.next_tick = now + self.tick
                    continue
                if self.rxq and self.rxq[0].t <= now:
                    c = self.rxq.popleft()
                    self.cv.notify_all()          # room for a blocked writer
                    if self.mode == "reset":
                        continue
                    data = c.data
                    if not _baud_ok(c.baud, self.chip_baud):
                        self._seed += 1
                        data = _garble(data, self._seed)
                        self.stats["chip_garbled"] += len(data)
                    self._chip_rx(data)
                    continue
                waits = [0.5]
                if self.release_at is not None:
                    waits.append(self.release_at - now)
                if self.next_tick is not None:
                    waits.append(self.next_tick - now)
                if self.rxq:
                    waits.append(self.rxq[0].t - now)
                self.cv.wait(max(0.0002, min(waits)))

    def _chip_rx(self, data):
        if self.mode == "app":
            for b in data:
                if b in (10, 13):
                    if self.app_line:
                        self._tx(b"sim_app: received '%s'\r\n" %
                                 bytes(self.app_line).decode("ascii", "replace").encode("ascii", "replace"))
                    self.app_line = bytearray()
                elif len(self.app_line) < 200:
                    self.app_line.append(b)
            return
        for b in data:                            # SLIP
            if self._slip_buf is None:
                if b == 0xC0:
                    self._slip_buf = bytearray()
                continue                          # noise between frames is ignored
            if self._slip_esc:
                self._slip_esc = False
                if b == 0xDC:
                    self._slip_buf.append(0xC0)
                elif b == 0xDD:
                    self._slip_buf.append(0xDB)
                else:
                    self.stats["slip_errors"] += 1
                    self._slip_buf = None
                continue
            if b == 0xDB:
                self._slip_esc = True
            elif b == 0xC0:
                frame = bytes(self._slip_buf)
                self._slip_buf = bytearray()      # C0 C0: empty frame, a new one starts
                if frame:
                    self._frame(frame)
                    if self.mode not in ("rom", "stub"):
                        return
            else:
                self._slip_buf.append(b)
                if len(self._slip_buf) > 0x10000:
                    self._slip_buf = None

    # ------------------------------------------------------------ protocol
    def _reply(self, op, val=0, data=b"", status=0, err=0):
        st = bytes([status, err]) + (b"\0\0" if self.mode == "rom" else b"")
        body = data + st
        self._tx(slip(struct.pack("<BBHI", 1, op, len(body), val) + body))

    def _frame(self, frame):
        if self.read_op is not None and len(frame) == 4:
            return self._read_flash_ack(frame)
        if len(frame) < 8 or frame[0] != 0:
            self.stats["bad_frames"] += 1
            return
        _, op, size, chk = struct.unpack("<BBHI", frame[:8])
        data = frame[8:]
        if len(data) != size:
            self.stats["bad_frames"] += 1
            return self._reply(op, status=1, err=ERR_INVALID_LEN)
        self.stats["cmd_%02x" % op] += 1
        fn = self._handlers.get(op)
        stub_only = op in (ERASE_FLASH, ERASE_REGION, READ_FLASH, RUN_USER_CODE)
        rom_only = op in (READ_FLASH_SLOW,)
        if fn is None or (stub_only and self.mode != "stub") or (rom_only and self.mode != "rom"):
            return self._reply(op, status=1, err=ERR_INVALID_MSG)
        try:
            fn(self, op, data, chk)
        except _CmdError as e:
            self._reply(op, status=1, err=e.args[0])
        except struct.error:
            self._reply(op, status=1, err=ERR_INVALID_LEN)

    def _sync(self, op, data, chk):
        if data != b"\x07\x07\x12\x20" + b"\x55" * 32:
            return
        val = 0x20120707 if self.mode == "rom" else 0
        for _ in range(8):
            self._reply(op, val)

    def _read_reg(self, op, data, chk):
        (addr,) = struct.unpack("<I", data[:4])
        if addr == UART_CLKDIV_REG:
            val = XTAL // self.chip_baud
        else:
            val = self.regs.get(addr, 0)
        self._reply(op, val)

    def _write_reg(self, op, data, chk):
        if len(data) % 16:
            raise _CmdError(ERR_INVALID_LEN)
        for i in range(0, len(data), 16):
            addr, value, mask, _delay = struct.unpack("<IIII", data[i:i + 16])
            old = self.regs.get(addr, 0)
            self.regs[addr] = (old & ~mask) | (value & mask)
            if addr == SPI_CMD and value & SPI_CMD_USR:
                self._spi_user_command()
        self._reply(op)

    def _spi_user_command(self):
        cmd = self.regs.get(SPI_USR2, 0) & 0xFF
        if cmd == 0x9F:                          # RDID
            w0 = FLASH_JEDEC_ID
        elif cmd in (0x05, 0x35, 0x15):          # RDSR*
            w0 = 0
        else:                                    # SFDP and others: a non-XMC part
            w0 = 0
        self.regs[SPI_W0] = w0
        self.regs[SPI_CMD] = self.regs.get(SPI_CMD, 0) & ~SPI_CMD_USR

    def _ok(self, op, data, chk):
        self._reply(op)

    def _change_baud(self, op, data, chk):
        new, old = struct.unpack("<II", data[:8])
        self._reply(op)                          # at the old rate ...
        self.chip_baud = new                     # ... then switch
        self.event("chip-baud %d (%s)" % (new, self.mode))

    # RAM download (the stub)
    def _mem_begin(self, op, data, chk):
        size, blocks, blocksize, offset = struct.unpack("<IIII", data[:16])
        self.mem_op = [offset, size, blocksize, bytearray()]
        self._reply(op)

    def _mem_data(self, op, data, chk):
        size, seq, _, _ = struct.unpack("<IIII", data[:16])
        payload = data[16:]
        if self.mem_op is None:
            raise _CmdError(ERR_FAILED)
        if len(payload) != size:
            raise _CmdError(ERR_INVALID_LEN)
        if checksum(payload) != chk & 0xFF:
            raise _CmdError(ERR_INVALID_CRC)
        offset, total, blocksize, buf = self.mem_op
        buf[seq * blocksize: seq * blocksize + size] = payload
        if len(buf) >= total:
            self.stub_code[offset] = bytes(buf[:total])
        self._reply(op)

    def _mem_end(self, op, data, chk):
        no_entry, entry = struct.unpack("<II", data[:8])
        self._reply(op)
        if no_entry:
            return
        loaded = sum(len(v) for v in self.stub_code.values())
        self.event("stub started (entry 0x%08x, %d bytes loaded)" % (entry, loaded))
        self.mode = "stub"
        self._tx(slip(b"OHAI"))

    # flash writes
    def _erase(self, off, size):
        end = min(FLASH_SIZE, off + size)
        off -= off % SECTOR
        if end % SECTOR:
            end += SECTOR - end % SECTOR
        self.flash[off:end] = b"\xff" * (end - off)
        self.stats["erased"] += end - off

    def _program(self, off, data):
        """NOR semantics: programming can only clear bits."""
        if off + len(data) > FLASH_SIZE:
            raise _CmdError(ERR_FLASH_WRITE)
        fo = self.flash_op
        if self.mode == "stub" and fo is not None:      # the stub erases as it goes
            end = off + len(data)
            while fo["erased_to"] < end:
                self._erase(fo["erased_to"], SECTOR)
                fo["erased_to"] += SECTOR
        cur = int.from_bytes(self.flash[off:off + len(data)], "little")
        new = int.from_bytes(data, "little")
        self.flash[off:off + len(data)] = (cur & new).to_bytes(len(data), "little")
        self.stats["written"] += len(data)

    def _flash_begin(self, op, data, chk):
        size, blocks, blocksize, offset = struct.unpack("<IIII", data[:16])
        if offset + size > FLASH_SIZE:
            raise _CmdError(ERR_FLASH_WRITE)
        defl = op == FLASH_DEFL_BEGIN
        self._close_flash_op()
        self.flash_op = {"offset": offset, "size": size, "blocksize": blocksize, "blocks": blocks,
                         "defl": defl, "pos": offset, "seq": 0,
                         "z": zlib.decompressobj() if defl else None,
                         "erased_to": offset - offset % SECTOR, "mode": self.mode}
        if self.mode == "rom":                   # ROM erases up front
            if size:
                self._erase(offset, size)
            self.flash_op["erased_to"] = offset + size
        if size:
            self.event("flash-begin%s 0x%x size %d blocks %d x %d (%s)" %
                       (" (deflate)" if defl else "", offset, size, blocks, blocksize, self.mode))
        self._reply(op)

    def _flash_data(self, op, data, chk):
        size, seq, _, _ = struct.unpack("<IIII", data[:16])
        payload = data[16:]
        fo = self.flash_op
        if fo is None or fo["defl"] != (op == FLASH_DEFL_DATA):
            raise _CmdError(ERR_FAILED)
        if len(payload) != size:
            raise _CmdError(ERR_INVALID_LEN)
        if checksum(payload) != chk & 0xFF:
            self.stats["bad_checksum"] += 1
            raise _CmdError(ERR_INVALID_CRC)
        if seq != fo["seq"]:
            if seq + 1 == fo["seq"]:             # a retried block: already written
                return self._reply(op)
            raise _CmdError(ERR_FAILED)
        if fo["defl"]:
            try:
                out = fo["z"].decompress(payload)
            except zlib.error:
                raise _CmdError(ERR_DEFLATE)
        else:
            out = payload
        if fo["pos"] + len(out) > FLASH_SIZE:
            raise _CmdError(ERR_FLASH_WRITE)
        self._program(fo["pos"], out)
        fo["pos"] += len(out)
        fo["seq"] += 1
        self._reply(op)

    def _flash_end(self, op, data, chk):
        (stay,) = struct.unpack("<I", data[:4]) if len(data) >= 4 else (1,)
        self._close_flash_op()
        self._reply(op)
        if not stay:
            # ROM: "run user code"; stub: software reset, strap re-latched -> ROM again
            was = self.mode
            self.event("%s: reboot requested by FLASH_END" % was)
            self._boot("app" if was == "rom" else "rom", software=True)

    def _close_flash_op(self):
        fo = self.flash_op
        if fo is not None and fo["pos"] > fo["offset"]:
            if fo["offset"] == 0x10000:
                self.app_size = fo["pos"] - fo["offset"]
            self.event("flash-written 0x%x..0x%x (%d bytes, %s)" %
                       (fo["offset"], fo["pos"], fo["pos"] - fo["offset"], fo["mode"]))
        self.flash_op = None

    def _md5(self, op, data, chk):
        addr, size = struct.unpack("<II", data[:8])
        if addr + size > FLASH_SIZE:
            raise _CmdError(ERR_FLASH_READ)
        digest = hashlib.md5(self.flash[addr:addr + size])
        self.event("md5 0x%x+%d = %s" % (addr, size, digest.hexdigest()))
        if self.mode == "rom":
            self._reply(op, data=digest.hexdigest().encode())
        else:
            self._reply(op, data=digest.digest())

    def _read_flash_slow(self, op, data, chk):
        addr, size = struct.unpack("<II", data[:8])
        if size > 64 or addr + size > FLASH_SIZE:
            raise _CmdError(ERR_INVALID_LEN)
        self._reply(op, data=bytes(self.flash[addr:addr + size]).ljust(64, b"\0"))

    def _erase_flash(self, op, data, chk):
        self._erase(0, FLASH_SIZE)
        self.event("erase-flash")
        self._reply(op)

    def _erase_region(self, op, data, chk):
        off, size = struct.unpack("<II", data[:8])
        if off % SECTOR or size % SECTOR or off + size > FLASH_SIZE:
            raise _CmdError(ERR_FAILED)
        self._erase(off, size)
        self.event("erase-region 0x%x+%d" % (off, size))
        self._reply(op)

    def _read_flash(self, op, data, chk):
        off, length, psize, inflight = struct.unpack("<IIII", data[:16])
        if off + length > FLASH_SIZE or psize == 0 or inflight == 0:
            raise _CmdError(ERR_INVALID_LEN)
        self._reply(op)
        self.event("read-flash 0x%x+%d" % (off, length))
        self.read_op = {"off": off, "len": length, "psize": psize, "inflight": inflight,
                        "sent": 0, "acked": 0}
        self._read_flash_pump()

    def _read_flash_pump(self):
        r = self.read_op
        while r["sent"] < r["len"] and r["sent"] - r["acked"] < r["psize"] * r["inflight"]:
            n = min(r["psize"], r["len"] - r["sent"])
            a = r["off"] + r["sent"]
            self._tx(slip(bytes(self.flash[a:a + n])))
            r["sent"] += n
        if r["acked"] >= r["len"]:
            self._tx(slip(hashlib.md5(self.flash[r["off"]:r["off"] + r["len"]]).digest()))
            self.read_op = None

    def _read_flash_ack(self, frame):
        (acked,) = struct.unpack("<I", frame)
        self.read_op["acked"] = acked
        self._read_flash_pump()

    def _run_user_code(self, op, data, chk):
        self._boot("app", software=True)

    _handlers = {
        SYNC: _sync, READ_REG: _read_reg, WRITE_REG: _write_reg,
        SPI_SET_PARAMS: _ok, SPI_ATTACH: _ok, CHANGE_BAUDRATE: _change_baud,
        MEM_BEGIN: _mem_begin, MEM_DATA: _mem_data, MEM_END: _mem_end,
        FLASH_BEGIN: _flash_begin, FLASH_DATA: _flash_data, FLASH_END: _flash_end,
        FLASH_DEFL_BEGIN: _flash_begin, FLASH_DEFL_DATA: _flash_data, FLASH_DEFL_END: _flash_end,
        SPI_FLASH_MD5: _md5, READ_FLASH_SLOW: _read_flash_slow,
        ERASE_FLASH: _erase_flash, ERASE_REGION: _erase_region, READ_FLASH: _read_flash,
        RUN_USER_CODE: _run_user_code,
    }


class _CmdError(Exception):
    pass


class _Batch:
    def __init__(self, board, t):
        self.b, self.t = board, t

    def __enter__(self):
        with self.b.cv:
            if not self.b._batch_depth:
                self.b._batch_t = self.t
            self.b._batch_depth += 1

    def __exit__(self, *exc):
        with self.b.cv:
            self.b._batch_depth -= 1
            self.b.cv.notify_all()


_boards = {}
_boards_lock = threading.Lock()


def get_board(name="esp32sim", **kw):
    """One board per name per process (re-opening a port finds the same chip)."""
    with _boards_lock:
        b = _boards.get(name)
        if b is None:
            b = _boards[name] = Board(name=name, **kw)
        return b
