// tcp_engine.h: the native data path of @plexus/collectives' TCP transport.
//
// Node's sockets cost one event-loop wake-up, one JavaScript callback and
// one promise per read or write; at tens of MiB per all-reduce that, not the
// wire, was the limit (a plain Node socket exchange took as long as our
// whole all-reduce, and Gloo's blocking C++ threads were 1.3x faster).
// Once a connection has passed the JavaScript handshake, its descriptor is
// handed over here: per peer, one thread writes frames on the connections
// this rank sends on and one thread reads frames from the connections it
// receives on, straight into the receiver's posted arrays, checking every
// header and CRC-32 as src/transport/tcp/connection.ts does. JavaScript is
// told only when a whole message has gone out or arrived.
//
// The wire format is exactly that of src/transport/tcp/frame.ts, so a rank
// with this engine and a rank without it interoperate.
#pragma once

#include <node_api.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crc32.h"

namespace plexus_tcp {

constexpr uint32_t kMagic = 0x46584c50;  // "PLXF"
constexpr uint8_t kVersion = 1;
constexpr size_t kHeader = 40;
constexpr uint16_t kFlagCrc = 1;
constexpr uint8_t kTypeChallenge = 1;
constexpr uint8_t kTypeData = 5;
constexpr uint32_t kWindow = 1u << 16;
// Messages up to this size are written from the thread that queues them.
constexpr uint64_t kInlineSendBytes = 256u << 10;

// Event kinds delivered to JavaScript (see src/transport/tcp/native-peer.ts).
enum EventKind : int32_t {
  kSendDone = 1,
  kRecvDone = 2,
  kSendClosed = 3,
  kRecvClosed = 4,
  kFailed = 5,
  // A native ring all-reduce (ring_op.h) finished; msgSeq carries its id.
  kRingDone = 6,
};

// Told of a message's end in the engine's own thread instead of JavaScript
// (the native ring all-reduce drives the next step from there). Must not
// block; may call send() and postRecvHooked() of any running peer.
struct MessageHook {
  virtual ~MessageHook() = default;
  virtual void onRecvDone(uint32_t tag) = 0;
  virtual void onSendDone(uint32_t tag) = 0;
  // A streamed receive's bytes [offset, offset + length) of the message, as
  // they come off the socket (CRC not yet checked: a bad frame fails the
  // peer, and with it the operation). Whole elements of `elemSize` where
  // the sender's frames allow it.
  virtual void onData(uint32_t tag, uint64_t offset, const uint8_t* data, uint64_t length) = 0;
  // The CRC-32 of the payload of a checked frame [offset, offset + length)
  // of a posted message, once verified (so a forwarded copy need not be
  // read again to checksum it).
  virtual void onFrameCrc(uint32_t, uint64_t, uint64_t, uint32_t) {}
};

// Bytes a streamed receive reads per recv(): small enough to stay in L2
// between the kernel's copy and the hook's use of them.
constexpr size_t kStreamBytes = 128u << 10;

struct Event {
  int32_t kind;
  uint32_t msgSeq = 0;
  uint8_t* staged = nullptr;  // malloc'd message (kRecvDone of an unposted or mismatched receive)
  uint64_t length = 0;
  int32_t conn = -1;
  std::string reason;
};

struct Config {
  uint32_t frameBytes;
  uint32_t maxFrameBytes;
  uint64_t maxMessageBytes;
  uint64_t stripeMinBytes;
  bool checksum;
};

inline void put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
inline void put64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
inline uint32_t get32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
inline uint64_t get64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

// CRC-32 over the header without its CRC field (bytes 16..19), as frame.ts's headerCrc.
inline uint32_t headerCrc(const uint8_t* h) {
  return plexus_crc32::update(plexus_crc32::update(0, h, 16), h + 20, kHeader - 20);
}

// A contiguous range of one message to send on one connection, cut into frames.
struct Piece {
  uint32_t msgSeq;
  uint64_t msgLength;
  const uint8_t* base;
  uint64_t off;
  uint64_t end;
  // CRC-32 of each frame's payload, taken when the message was queued.
  std::vector<uint32_t> crcs;
  size_t nextFrame = 0;
};

struct SendConn {
  int fd;
  uint32_t seq;
  std::deque<Piece> queue;  // guarded by Peer::sendMu
  // Held by whichever thread writes to the socket: the sender thread, or the
  // JavaScript thread writing a newly queued message at once (no wake-up).
  std::mutex io;
  // Guarded by io from here on.
  bool open = true;
  // The frame being written.
  bool inFrame = false;
  uint8_t header[kHeader];
  uint64_t frameLen = 0;
  size_t written = 0;
};

struct RecvConn {
  int fd;
  uint32_t seq;
  bool open = true;
  uint8_t header[kHeader];
  size_t headerFill = 0;
  bool inPayload = false;
  uint8_t* target = nullptr;
  uint64_t payloadLength = 0;
  uint64_t payloadFill = 0;
  uint32_t msgSeq = 0;
  uint32_t wantCrc = 0;
  uint32_t headCrc = 0;  // of the header; `crc` is the payload's, joined at the end
  uint32_t crc = 0;
  uint64_t frameOffset = 0;
  bool checking = false;
  // A streamed message (Posted::stream): payload goes through `bounce` to the hook.
  std::shared_ptr<MessageHook> stream;
  uint32_t streamTag = 0;
  uint32_t elemSize = 1;
  uint64_t handOffset = 0;  // message offset of bounce[0]
  size_t carry = 0;         // bytes of a partial element kept at bounce[0]
  std::vector<uint8_t> bounce;
};

struct Posted {
  uint8_t* into;  // nullptr: no destination given
  uint64_t length;
  std::shared_ptr<MessageHook> hook = nullptr;  // told instead of JavaScript
  uint32_t tag = 0;
  // Handed to hook->onData piece by piece instead of landing in `into`.
  bool stream = false;
  uint32_t elemSize = 1;
};

struct Incoming {
  uint64_t length;
  uint8_t* buf;  // nullptr while streamed
  bool staged;
  uint64_t received;
  uint64_t capacity = 0;  // of a staged buffer
  const Posted* streamTo = nullptr;  // the posted receive it streams to
};

// What is left to write of one message, and who hears when it is out.
struct Outgoing {
  int piecesLeft;
  std::shared_ptr<MessageHook> hook;
  uint32_t tag;
};

class Peer;

// The peers of one JavaScript environment, stopped together when it is torn
// down: a ring all-reduce lets one peer's thread call into another, and the
// finalizers that free peers run in no set order, so none may be freed while
// another's threads still run.
struct PeerRegistry {
  std::mutex mu;
  std::unordered_set<Peer*> peers;
  inline void stopAll();
};

class Peer {
 public:
  Peer(const Config& config, std::string label) : config_(config), label_(std::move(label)) {}

  ~Peer() {
    // Normally stopped by tcpClose already; an environment torn down without
    // it (a Worker terminated) must still join the threads before they go.
    stop(false);
    if (registry_) {
      std::lock_guard<std::mutex> lock(registry_->mu);
      registry_->peers.erase(this);
    }
    for (auto& kv : incoming_)
      if (kv.second.staged) free(kv.second.buf);
    for (auto& kv : complete_) free(kv.second.buf);
    for (Event& e : events_) free(e.staged);
    for (auto& b : pool_) free(b.first);
  }

  // Takes ownership of duplicates of the descriptors; starts the threads.
  bool start(const std::vector<int>& sendFds, const std::vector<uint32_t>& sendSeqs,
             const std::vector<int>& recvFds, const std::vector<uint32_t>& recvSeqs,
             napi_threadsafe_function tsfn, std::string* why) {
    tsfn_ = tsfn;
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    stopRecv_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0 || stopRecv_ < 0) {
      *why = std::string("eventfd: ") + strerror(errno);
      return false;
    }
    auto adopt = [&](int fd, int* out) {
      int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (d < 0) {
        *why = std::string("dup: ") + strerror(errno);
        return false;
      }
      fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK);
      *out = d;
      return true;
    };
    for (size_t i = 0; i < sendFds.size(); i++) {
      send_.emplace_back();
      send_.back().seq = sendSeqs[i];
      send_.back().fd = -1;
      if (!adopt(sendFds[i], &send_.back().fd)) return false;
    }
    for (size_t i = 0; i < recvFds.size(); i++) {
      recv_.emplace_back();
      recv_.back().seq = recvSeqs[i];
      recv_.back().fd = -1;
      if (!adopt(recvFds[i], &recv_.back().fd)) return false;
    }
    sender_ = std::thread([this] { sendLoop(); });
    receiver_ = std::thread([this] { recvLoop(); });
    return true;
  }

  // Stops both threads and closes the descriptors. Once this returns, no
  // thread touches any array JavaScript handed in.
  void stop(bool graceful) {
    if (stopped_.exchange(true)) return;
    // A ring all-reduce may be queueing a message from another peer's
    // thread: let it finish before the descriptors go.
    while (inSend_.load() != 0) std::this_thread::yield();
    uint64_t one = 1;
    if (graceful && sender_.joinable()) {
      // What was queued still goes out whole (as Node's socket.end() does),
      // for at most kDrainMs: a peer that stopped reading must not hang us.
      draining_.store(true);
      if (wake_ >= 0) (void)!write(wake_, &one, sizeof one);
      for (int waited = 0; !senderIdle_.load() && waited < kDrainMs; waited++) usleep(1000);
    }
    stopping_.store(true);
    if (wake_ >= 0) (void)!write(wake_, &one, sizeof one);
    if (stopRecv_ >= 0) (void)!write(stopRecv_, &one, sizeof one);
    if (sender_.joinable()) sender_.join();
    if (receiver_.joinable()) receiver_.join();
    for (auto& c : send_) closeFd(c.fd, graceful ? SHUT_WR : SHUT_RDWR);
    for (auto& c : recv_) {
      // Unread bytes at close() would make the kernel answer with a reset.
      if (graceful && c.fd >= 0) {
        uint8_t sink[65536];
        while (recv(c.fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
        }
      }
      closeFd(c.fd, graceful ? SHUT_WR : SHUT_RDWR);
    }
    if (wake_ >= 0) close(wake_);
    if (stopRecv_ >= 0) close(stopRecv_);
    wake_ = stopRecv_ = -1;
  }

  napi_threadsafe_function tsfn() const { return tsfn_; }

  // Two owners: the threadsafe function (until its queued events are
  // delivered) and JavaScript's handle (until it is collected), so a stopped
  // peer still hands out the messages that had fully arrived.
  void release() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  // Queues message `msgSeq` of `length` bytes at `base`, striped as
  // TcpPeer.send does. Called on the JavaScript thread, which usually has
  // just written the bytes (a reduced chunk): the payload checksums are
  // taken here, from its cache, rather than later by the sender thread from
  // memory; the sender joins them to each header with crc32 combine.
  //
  // `frameCrcs`, when given, are the payload CRCs of the frames this send
  // will cut (one connection: [0, frameBytes), [frameBytes, 2 frameBytes),
  // ...), known to the caller already; otherwise, or where they do not fit,
  // they are computed here.
  void send(uint32_t msgSeq, const uint8_t* base, uint64_t length,
            std::shared_ptr<MessageHook> hook = nullptr, uint32_t tag = 0,
            std::vector<uint32_t> frameCrcs = {}) {
    inSend_.fetch_add(1);
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { n.fetch_sub(1); }
    } leave{inSend_};
    if (stopped_.load()) return;
    const size_t k = send_.size();
    std::vector<std::pair<size_t, Piece>> pieces;
    auto add = [&](size_t conn, uint64_t start, uint64_t end) {
      Piece piece{msgSeq, length, base, start, end, {}, 0};
      const uint64_t frames = end == start ? 1 : (end - start + config_.frameBytes - 1) / config_.frameBytes;
      if (config_.checksum && start == 0 && end == length && frameCrcs.size() == frames) {
        piece.crcs = std::move(frameCrcs);
      } else if (config_.checksum) {
        uint64_t at = start;
        do {
          const uint64_t n = std::min<uint64_t>(config_.frameBytes, end - at);
          piece.crcs.push_back(plexus_crc32::update(0, base + at, n));
          at += n;
        } while (at < end);
      }
      pieces.emplace_back(conn, std::move(piece));
    };
    if (k == 1 || length == 0 || length < config_.stripeMinBytes) {
      add(msgSeq % k, 0, length);
    } else {
      const uint64_t stripe = ((length + k - 1) / k + 4095) / 4096 * 4096;
      for (size_t i = 0; i < k; i++) {
        const uint64_t start = std::min<uint64_t>(length, i * stripe);
        const uint64_t end = std::min<uint64_t>(length, start + stripe);
        if (end > start) add(i, start, end);
      }
    }
    {
      std::lock_guard<std::mutex> lock(sendMu_);
      outgoing_[msgSeq] = Outgoing{static_cast<int>(pieces.size()), std::move(hook), tag};
      for (auto& [conn, piece] : pieces) send_[conn].queue.push_back(std::move(piece));
    }
    // A small message is written at once from this thread where the socket
    // is free: it then costs no thread wake-up (which, with ranks sharing
    // cores, doubled the latency of a 1 MiB all-reduce against Node's own
    // sockets). Large ones go to the sender thread, which copies them into
    // the kernel while this thread goes on.
    if (length > kInlineSendBytes) {
      wake();
      return;
    }
    bool needSender = false;
    for (auto& entry : pieces) {
      SendConn& c = send_[entry.first];
      if (!c.io.try_lock()) {
        needSender = true;
        continue;
      }
      bool blocked = false;
      if (c.open && !stopping_.load(std::memory_order_relaxed)) pump(entry.first, &blocked);
      c.io.unlock();
      needSender = needSender || blocked;
    }
    if (needSender) wake();
  }

  enum class Posting { posted, copied, handed };

  // Posts the receive of message `msgSeq`. When the message had already
  // arrived: `copied` (it fit `into` and is there now) or `handed` (`*ready`
  // is a staged buffer the caller now owns and must free()).
  Posting postRecv(uint32_t msgSeq, uint8_t* into, uint64_t length, Incoming* ready) {
    Incoming got;
    {
      std::lock_guard<std::mutex> lock(recvMu_);
      auto it = complete_.find(msgSeq);
      if (it == complete_.end()) {
        posted_[msgSeq] = {into, length};
        return Posting::posted;
      }
      got = it->second;
      complete_.erase(it);
    }
    if (into == nullptr || length != got.length) {
      *ready = got;
      return Posting::handed;
    }
    memcpy(into, got.buf, got.length);
    recycle(got.buf, got.capacity);
    return Posting::copied;
  }

  enum class HookedPosting { posted, copied, mismatch };

  // Posts the receive of message `msgSeq` into `into` (exactly `length`
  // bytes) for `hook`, which hears of it in the thread that completes it.
  // `copied`: it had already arrived and is in `into` now (the hook is not
  // called); `mismatch`: it had arrived with another length (dropped).
  // With `elemSize` > 0 the receive is streamed: no `into`, its bytes go to
  // hook->onData as they arrive (an already arrived message right here).
  HookedPosting postRecvHooked(uint32_t msgSeq, uint8_t* into, uint64_t length,
                               std::shared_ptr<MessageHook> hook, uint32_t tag,
                               uint32_t elemSize = 0) {
    Incoming got;
    {
      std::lock_guard<std::mutex> lock(recvMu_);
      auto it = complete_.find(msgSeq);
      if (it == complete_.end()) {
        posted_[msgSeq] =
            Posted{into, length, std::move(hook), tag, elemSize > 0, elemSize > 0 ? elemSize : 1};
        return HookedPosting::posted;
      }
      got = it->second;
      complete_.erase(it);
    }
    if (got.length == length) {
      if (elemSize > 0) hook->onData(tag, 0, got.buf, length);
      else memcpy(into, got.buf, length);
    }
    recycle(got.buf, got.capacity);
    return got.length == length ? HookedPosting::copied : HookedPosting::mismatch;
  }

  // Tells JavaScript `kind` about `id` (kRingDone); only from a thread of a
  // running peer or the JavaScript thread.
  void notify(int32_t kind, uint32_t id) {
    Event e;
    e.kind = kind;
    e.msgSeq = id;
    emit(std::move(e));
  }

  // Fails the peer with `reason` (JavaScript stops it).
  void fault(const std::string& reason) { failWith(reason); }

  // Joins `registry`, to be stopped with the rest of its environment.
  void enroll(std::shared_ptr<PeerRegistry> registry) {
    registry_ = std::move(registry);
    std::lock_guard<std::mutex> lock(registry_->mu);
    registry_->peers.insert(this);
  }

  uint32_t frameBytes() const { return config_.frameBytes; }
  size_t connections() const { return send_.size(); }
  bool checksumming() const { return config_.checksum; }

  // Called on the JavaScript thread by the threadsafe function.
  void drain(std::deque<Event>* out) {
    std::lock_guard<std::mutex> lock(eventMu_);
    out->swap(events_);
  }

 private:
  static void closeFd(int& fd, int how) {
    if (fd < 0) return;
    shutdown(fd, how);
    close(fd);
    fd = -1;
  }

  void wake() {
    uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
  }

  void emit(Event e) {
    bool wasEmpty;
    {
      std::lock_guard<std::mutex> lock(eventMu_);
      wasEmpty = events_.empty();
      events_.push_back(std::move(e));
    }
    if (wasEmpty) napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
  }

  void failWith(const std::string& reason) {
    Event e;
    e.kind = kFailed;
    e.reason = reason;
    emit(std::move(e));
  }

  // ---- sending ------------------------------------------------------------

  // Writes as much of connection `index`'s queue as the socket takes; the
  // caller holds its `io`. Returns false on a fatal error (reported); sets
  // *blocked when the socket is full.
  bool pump(size_t index, bool* blocked) {
    SendConn& c = send_[index];
    for (;;) {
      // A long queue must not hold up stop() (which joins this thread).
      if (stopping_.load(std::memory_order_relaxed)) return true;
      // Elements of a deque stay put while others are pushed; only the holder
      // of `io` changes or pops the front.
      Piece* piece;
      {
        std::lock_guard<std::mutex> lock(sendMu_);
        if (c.queue.empty()) return true;
        piece = &c.queue.front();
      }
      if (!c.inFrame) {
        const uint64_t n = std::min<uint64_t>(config_.frameBytes, piece->end - piece->off);
        uint8_t* h = c.header;
        put32(h, kMagic);
        h[4] = kVersion;
        h[5] = kTypeData;
        const uint16_t flags = config_.checksum ? kFlagCrc : 0;
        memcpy(h + 6, &flags, 2);
        put32(h + 8, c.seq);
        put32(h + 12, static_cast<uint32_t>(n));
        put32(h + 16, 0);
        put32(h + 20, piece->msgSeq);
        put64(h + 24, piece->msgLength);
        put64(h + 32, piece->off);
        if (config_.checksum) {
          put32(h + 16, plexus_crc32::combine(headerCrc(h), piece->crcs[piece->nextFrame], n));
        }
        c.seq++;
        c.frameLen = n;
        c.written = 0;
        c.inFrame = true;
      }
      const uint8_t* payload = piece->base + piece->off;
      const size_t total = kHeader + c.frameLen;
      while (c.written < total) {
        struct iovec iov[2];
        int cnt = 0;
        if (c.written < kHeader) {
          iov[cnt++] = {c.header + c.written, kHeader - c.written};
          if (c.frameLen > 0) iov[cnt++] = {const_cast<uint8_t*>(payload), c.frameLen};
        } else {
          const size_t at = c.written - kHeader;
          iov[cnt++] = {const_cast<uint8_t*>(payload + at), c.frameLen - at};
        }
        struct msghdr msg = {};
        msg.msg_iov = iov;
        msg.msg_iovlen = cnt;
        const ssize_t w = sendmsg(c.fd, &msg, MSG_NOSIGNAL);
        if (w < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            *blocked = true;
            return true;
          }
          failWith("socket error on send connection " + std::to_string(index) + " to " + label_ +
                   ": " + strerror(errno));
          return false;
        }
        c.written += static_cast<size_t>(w);
      }
      c.inFrame = false;
      piece->off += c.frameLen;
      piece->nextFrame++;
      if (piece->off < piece->end) continue;
      const uint32_t msgSeq = piece->msgSeq;
      bool messageDone = false;
      std::shared_ptr<MessageHook> hook;
      uint32_t tag = 0;
      {
        std::lock_guard<std::mutex> lock(sendMu_);
        c.queue.pop_front();
        auto it = outgoing_.find(msgSeq);
        if (it != outgoing_.end() && --it->second.piecesLeft == 0) {
          hook = std::move(it->second.hook);
          tag = it->second.tag;
          outgoing_.erase(it);
          messageDone = true;
        }
      }
      if (messageDone && hook) {
        hook->onSendDone(tag);
      } else if (messageDone) {
        Event e;
        e.kind = kSendDone;
        e.msgSeq = msgSeq;
        emit(std::move(e));
      }
    }
  }

  void sendLoop() {
    const size_t k = send_.size();
    std::vector<struct pollfd> fds(k + 1);
    std::vector<bool> blocked(k, false);
    for (;;) {
      if (stopping_.load()) return;
      bool pending = false;
      for (size_t i = 0; i < k; i++) {
        std::lock_guard<std::mutex> io(send_[i].io);
        if (!send_[i].open) continue;
        bool b = false;
        if (!pump(i, &b)) {
          senderIdle_.store(true);
          return;
        }
        blocked[i] = b;
        pending = pending || b || send_[i].inFrame;
      }
      if (draining_.load() && !pending) senderIdle_.store(true);
      fds[0] = {wake_, POLLIN, 0};
      for (size_t i = 0; i < k; i++) {
        // Nothing may arrive on a send connection: readable means the peer
        // closed it (or broke the protocol).
        std::lock_guard<std::mutex> io(send_[i].io);
        const short ev = send_[i].open ? (POLLIN | POLLRDHUP | (blocked[i] ? POLLOUT : 0)) : 0;
        fds[i + 1] = {send_[i].open ? send_[i].fd : -1, ev, 0};
      }
      const int r = poll(fds.data(), fds.size(), -1);
      if (r < 0 && errno != EINTR) {
        failWith(std::string("poll: ") + strerror(errno));
        return;
      }
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        (void)!read(wake_, &v, sizeof v);
      }
      for (size_t i = 0; i < k; i++) {
        const short re = fds[i + 1].revents;
        std::lock_guard<std::mutex> io(send_[i].io);
        if (!send_[i].open || (re & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) == 0) continue;
        uint8_t byte;
        const ssize_t got = recv(send_[i].fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
        if (got > 0) {
          failWith("send connection " + std::to_string(i) + " to " + label_ +
                   ": rejected frame: a frame on a connection that only carries data the other way");
          return;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          if ((re & POLLERR) == 0) continue;
        }
        if (got == 0) {
          // As Node's sockets do (allowHalfOpen false): answer the peer's FIN
          // with ours, so its side can finish closing (a server waits on it).
          shutdown(send_[i].fd, SHUT_WR);
          send_[i].open = false;
          Event e;
          e.kind = kSendClosed;
          e.conn = static_cast<int32_t>(i);
          emit(std::move(e));
          continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(send_[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
        failWith("socket error on send connection " + std::to_string(i) + " to " + label_ + ": " +
                 strerror(err != 0 ? err : errno));
        return;
      }
    }
  }

  // ---- receiving ----------------------------------------------------------

  // Why the frame whose header `c` holds is refused, or "" (then c's target is set).
  std::string startFrame(RecvConn& c) {
    const uint8_t* h = c.header;
    c.headerFill = 0;
    if (get32(h) != kMagic) return "bad magic (not a @plexus/collectives peer)";
    if (h[4] != kVersion) {
      return "protocol version " + std::to_string(h[4]) + ", expected " + std::to_string(kVersion);
    }
    const uint8_t type = h[5];
    if (type < kTypeChallenge || type > kTypeData) return "unknown frame type " + std::to_string(type);
    uint16_t flags;
    memcpy(&flags, h + 6, 2);
    if ((flags & ~kFlagCrc) != 0) return "unknown header flags " + std::to_string(flags);
    const uint32_t seq = get32(h + 8);
    if (seq != c.seq) {
      return "sequence number " + std::to_string(seq) + ", expected " + std::to_string(c.seq) +
             " (replayed, dropped or reordered frame)";
    }
    const uint32_t payloadLength = get32(h + 12);
    if (payloadLength > config_.maxFrameBytes) {
      return "payload of " + std::to_string(payloadLength) + " bytes exceeds the frame limit of " +
             std::to_string(config_.maxFrameBytes);
    }
    c.checking = (flags & kFlagCrc) != 0;
    if (!c.checking && (config_.checksum || type != kTypeData)) {
      return "frame without a CRC32, but this rank requires checksums";
    }
    c.seq++;
    if (type != kTypeData) return "unexpected frame type " + std::to_string(type) + " after the handshake";
    const uint32_t msgSeq = get32(h + 20);
    const uint64_t msgLength = get64(h + 24);
    const uint64_t offset = get64(h + 32);
    std::lock_guard<std::mutex> lock(recvMu_);
    if (msgSeq - doneBase_ >= kWindow || done_.count(msgSeq) != 0) {
      return "message " + std::to_string(msgSeq) + " is finished or out of the window (replayed frame?)";
    }
    if (msgLength > config_.maxMessageBytes) {
      return "message of " + std::to_string(msgLength) + " bytes exceeds the limit of " +
             std::to_string(config_.maxMessageBytes);
    }
    auto it = incoming_.find(msgSeq);
    if (it == incoming_.end()) {
      Incoming inc{msgLength, nullptr, true, 0};
      auto p = posted_.find(msgSeq);
      if (p != posted_.end() && p->second.stream && p->second.length == msgLength) {
        inc.staged = false;
        inc.streamTo = &p->second;
      } else if (p != posted_.end() && p->second.into != nullptr && p->second.length == msgLength) {
        inc.buf = p->second.into;
        inc.staged = false;
      } else {
        inc.buf = stagingBuffer(msgLength, &inc.capacity);
        if (inc.buf == nullptr) return "out of memory staging a message of " + std::to_string(msgLength) + " bytes";
      }
      it = incoming_.emplace(msgSeq, inc).first;
    } else if (it->second.length != msgLength) {
      return "message " + std::to_string(msgSeq) + " announced " + std::to_string(msgLength) +
             " bytes after " + std::to_string(it->second.length);
    }
    // Compared without a sum that a hostile offset could wrap around.
    if (offset > msgLength || payloadLength > msgLength - offset ||
        payloadLength > msgLength - it->second.received) {
      return "frame [" + std::to_string(offset) + ", " + std::to_string(offset + payloadLength) +
             ") overruns message " + std::to_string(msgSeq) + " of " + std::to_string(msgLength) + " bytes";
    }
    if (it->second.streamTo != nullptr) {
      // The posted entry stays until the message completes (finishFrame).
      const Posted& to = *it->second.streamTo;
      c.stream = to.hook;
      c.streamTag = to.tag;
      c.elemSize = to.elemSize;
      c.handOffset = offset;
      c.carry = 0;
      if (c.bounce.empty()) c.bounce.resize(kStreamBytes);
      c.target = nullptr;
    } else {
      c.stream = nullptr;
      c.target = it->second.buf + offset;
    }
    c.payloadLength = payloadLength;
    c.payloadFill = 0;
    c.msgSeq = msgSeq;
    c.wantCrc = get32(h + 16);
    c.frameOffset = offset;
    if (c.checking) {
      c.headCrc = headerCrc(h);
      c.crc = 0;
    }
    return "";
  }

  // The current frame of `c` is complete; "" or why it is refused.
  std::string finishFrame(RecvConn& c) {
    c.inPayload = false;
    if (c.checking && plexus_crc32::combine(c.headCrc, c.crc, c.payloadLength) != c.wantCrc)
      return "CRC32 mismatch (corrupted frame)";
    Event e;
    bool deliver = false;
    Incoming whole;
    Posted dest{nullptr, 0};
    std::shared_ptr<MessageHook> frameHook;  // told this frame's verified CRC
    uint32_t frameTag = 0;
    {
      std::lock_guard<std::mutex> lock(recvMu_);
      auto p = posted_.find(c.msgSeq);
      if (c.checking && p != posted_.end() && p->second.hook) {
        frameHook = p->second.hook;
        frameTag = p->second.tag;
      }
      Incoming& inc = incoming_[c.msgSeq];
      inc.received += c.payloadLength;
      if (inc.received >= inc.length) {
        whole = inc;
        incoming_.erase(c.msgSeq);
        done_.insert(c.msgSeq);
        while (done_.erase(doneBase_) != 0) doneBase_++;
        if (p == posted_.end()) {
          complete_[c.msgSeq] = whole;
        } else {
          dest = std::move(p->second);
          posted_.erase(p);
          e.kind = kRecvDone;
          e.msgSeq = c.msgSeq;
          e.staged = whole.staged ? whole.buf : nullptr;
          e.length = whole.length;
          deliver = true;
        }
      }
    }
    // Before the message's end, so a forwarded copy finds every frame's CRC.
    if (frameHook) frameHook->onFrameCrc(frameTag, c.frameOffset, c.payloadLength, c.crc);
    if (deliver && dest.hook) {
      if (whole.length != dest.length) {
        if (whole.staged) recycle(whole.buf, whole.capacity);
        return "message " + std::to_string(c.msgSeq) + " has " + std::to_string(whole.length) +
               " bytes, the ring all-reduce expected " + std::to_string(dest.length);
      }
      if (whole.staged) {
        // Arrived (in part) before it was posted: from the staging buffer now.
        if (dest.stream) dest.hook->onData(dest.tag, 0, whole.buf, whole.length);
        else memcpy(dest.into, whole.buf, whole.length);
        recycle(whole.buf, whole.capacity);
      }
      dest.hook->onRecvDone(dest.tag);
      return "";
    }
    // Posted after its first frames arrived: copy here (the array stays
    // referenced until the event) rather than hand JavaScript a new buffer.
    if (deliver && e.staged != nullptr && dest.into != nullptr && dest.length == whole.length) {
      memcpy(dest.into, whole.buf, whole.length);
      recycle(whole.buf, whole.capacity);
      e.staged = nullptr;
    }
    if (deliver) emit(std::move(e));
    return "";
  }

  // A buffer for a message that arrives before its receive is posted: one
  // kept from earlier such messages when one is big enough (no page faults,
  // no allocation), else a new one.
  uint8_t* stagingBuffer(uint64_t length, uint64_t* capacity) {
    {
      std::lock_guard<std::mutex> lock(poolMu_);
      for (size_t i = 0; i < pool_.size(); i++) {
        if (pool_[i].second >= length && pool_[i].second <= 2 * length + 65536) {
          uint8_t* b = pool_[i].first;
          *capacity = pool_[i].second;
          pool_[i] = pool_.back();
          pool_.pop_back();
          return b;
        }
      }
    }
    *capacity = length > 0 ? length : 1;
    return static_cast<uint8_t*>(malloc(*capacity));
  }

  void recycle(uint8_t* buf, uint64_t capacity) {
    {
      std::lock_guard<std::mutex> lock(poolMu_);
      if (pool_.size() < kPoolBuffers && capacity <= kPoolMaxBytes) {
        pool_.emplace_back(buf, capacity);
        return;
      }
    }
    free(buf);
  }

  // Reads what connection `index` has; false once the peer must fail (reported).
  bool drainConn(size_t index) {
    RecvConn& c = recv_[index];
    for (;;) {
      // A peer that never pauses must not hold up stop() (which joins this thread).
      if (stopping_.load(std::memory_order_relaxed)) return true;
      ssize_t got;
      if (!c.inPayload) {
        got = recv(c.fd, c.header + c.headerFill, kHeader - c.headerFill, 0);
      } else if (c.stream) {
        const size_t want = std::min<uint64_t>(kStreamBytes - c.carry, c.payloadLength - c.payloadFill);
        got = recv(c.fd, c.bounce.data() + c.carry, want, 0);
      } else {
        got = recv(c.fd, c.target + c.payloadFill, c.payloadLength - c.payloadFill, 0);
      }
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        failWith("socket error on connection " + std::to_string(index) + " from " + label_ + ": " +
                 strerror(errno));
        return false;
      }
      if (got == 0) {
        if (c.headerFill == 0 && !c.inPayload) {
          shutdown(c.fd, SHUT_WR);
          c.open = false;
          Event e;
          e.kind = kRecvClosed;
          e.conn = static_cast<int32_t>(index);
          emit(std::move(e));
          return true;
        }
        failWith("connection " + std::to_string(index) + " from " + label_ +
                 " closed in the middle of a frame (truncated)");
        return false;
      }
      std::string refused;
      if (!c.inPayload) {
        c.headerFill += static_cast<size_t>(got);
        if (c.headerFill < kHeader) continue;
        refused = startFrame(c);
        if (refused.empty()) {
          if (c.payloadLength == 0) refused = finishFrame(c);
          else c.inPayload = true;
        }
      } else if (c.stream) {
        uint8_t* fresh = c.bounce.data() + c.carry;
        if (c.checking) c.crc = plexus_crc32::update(c.crc, fresh, got);
        c.payloadFill += static_cast<uint64_t>(got);
        const size_t have = c.carry + static_cast<size_t>(got);
        const bool last = c.payloadFill == c.payloadLength;
        // Whole elements now; a split element waits for the rest of its bytes
        // (unless the frame ends there: then the hook pieces it together).
        const size_t hand =
            last || c.handOffset % c.elemSize != 0 ? have : have - have % c.elemSize;
        if (hand > 0) c.stream->onData(c.streamTag, c.handOffset, c.bounce.data(), hand);
        c.handOffset += hand;
        c.carry = have - hand;
        if (c.carry > 0) memmove(c.bounce.data(), c.bounce.data() + hand, c.carry);
        if (last) {
          c.stream = nullptr;
          refused = finishFrame(c);
        }
      } else {
        if (c.checking) c.crc = plexus_crc32::update(c.crc, c.target + c.payloadFill, got);
        c.payloadFill += static_cast<uint64_t>(got);
        if (c.payloadFill == c.payloadLength) refused = finishFrame(c);
      }
      if (!refused.empty()) {
        failWith("connection " + std::to_string(index) + " from " + label_ + ": rejected frame: " + refused);
        return false;
      }
    }
  }

  void recvLoop() {
    const size_t k = recv_.size();
    std::vector<struct pollfd> fds(k + 1);
    for (;;) {
      if (stopping_.load()) return;
      // Its own eventfd, never read: the sender resets `wake_` for new work.
      fds[0] = {stopRecv_, POLLIN, 0};
      for (size_t i = 0; i < k; i++)
        fds[i + 1] = {recv_[i].open ? recv_[i].fd : -1, POLLIN, 0};
      const int r = poll(fds.data(), fds.size(), -1);
      if (r < 0 && errno != EINTR) {
        failWith(std::string("poll: ") + strerror(errno));
        return;
      }
      if (stopping_.load()) return;
      for (size_t i = 0; i < k; i++) {
        if (fds[i + 1].revents == 0 || !recv_[i].open) continue;
        if (!drainConn(i)) return;
      }
    }
  }

  std::atomic<int> refs_{2};
  std::shared_ptr<PeerRegistry> registry_;
  const Config config_;
  const std::string label_;
  napi_threadsafe_function tsfn_ = nullptr;
  int wake_ = -1;
  int stopRecv_ = -1;
  std::atomic<bool> stopping_{false};
  // A graceful stop: the sender finishes its queue, then says so.
  std::atomic<bool> draining_{false};
  std::atomic<bool> senderIdle_{false};
  static constexpr int kDrainMs = 2000;
  std::atomic<bool> stopped_{false};
  // Threads inside send(): stop() waits for them (see there).
  std::atomic<int> inSend_{0};
  std::deque<SendConn> send_;  // a deque: SendConn holds a mutex and must not move
  std::vector<RecvConn> recv_;
  std::thread sender_;
  std::thread receiver_;

  std::mutex sendMu_;
  std::unordered_map<uint32_t, Outgoing> outgoing_;

  std::mutex recvMu_;
  std::unordered_map<uint32_t, Incoming> incoming_;
  std::unordered_map<uint32_t, Incoming> complete_;
  std::unordered_map<uint32_t, Posted> posted_;
  std::unordered_set<uint32_t> done_;
  uint32_t doneBase_ = 0;

  std::mutex eventMu_;
  std::deque<Event> events_;

  static constexpr size_t kPoolBuffers = 8;
  static constexpr uint64_t kPoolMaxBytes = 16u << 20;
  std::mutex poolMu_;
  std::vector<std::pair<uint8_t*, uint64_t>> pool_;
};

// On the JavaScript thread (which alone frees peers).
void PeerRegistry::stopAll() {
  std::vector<Peer*> all;
  {
    std::lock_guard<std::mutex> lock(mu);
    all.assign(peers.begin(), peers.end());
  }
  for (Peer* p : all) p->stop(false);
}

}  // namespace plexus_tcp
