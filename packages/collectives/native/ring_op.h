// ring_op.h: a whole pipelined ring all-reduce run by the TCP engine's own
// threads (tcp_engine.h), so JavaScript hears once per all-reduce instead
// of once per chunk.
//
// JavaScript computes the schedule (src/algorithms/ring-schedule.ts): the
// receives from the left peer and the sends to the right peer of this rank,
// each in the order the ring numbers its messages, and what each received
// chunk unlocks. A reduce-scatter chunk is streamed: each piece is reduced
// into the buffer straight from the 128 KiB the receiving thread just read
// (still in cache; no scratch buffer is written and read back), and the
// chunk is sent on once whole. An all-gather chunk is received in place and
// forwarded. The wire is unchanged: a rank running this and a rank running
// the JavaScript ring interoperate.
//
// Checksums: with one connection to the right (the default on loopback),
// the CRC-32 of each outgoing frame of a reduced chunk is taken piece by
// piece right after the piece is reduced, while it is in cache, instead of
// reading the whole chunk back when it is sent; a forwarded all-gather
// chunk reuses the CRCs its frames arrived with (verified) where the frames
// line up with ours. Elsewhere the engine computes them as for any send.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crc32.h"
#include "tcp_engine.h"

namespace plexus_tcp {

// out = a (op) b over `bytes` bytes (divisor > 0: then / divisor), as the addon's reduce().
using ReduceFn = bool (*)(int dtype, int op, int divisor, void* out, const void* a, const void* b,
                          size_t bytes);

// One receive of the schedule (the fields of a row of the receive plan).
struct RingRecv {
  bool reduce;      // streamed and reduced into the buffer at `offset`; else received there
  uint64_t offset;  // in the buffer
  uint64_t length;
  int32_t op;
  int32_t divisor;
  int64_t unlockSend;  // -1: none
};

// One send of the schedule.
struct RingSend {
  uint64_t offset;
  uint64_t length;
  bool initial;  // ready at the start (else unlocked by a receive)
};

class RingOp : public MessageHook, public std::enable_shared_from_this<RingOp> {
 public:
  RingOp(Peer* left, Peer* right, uint32_t id, uint32_t recvBase, uint32_t sendBase, int dtype,
         uint32_t elemSize, uint8_t* buf, std::vector<RingRecv> recvs, std::vector<RingSend> sends,
         ReduceFn reduce)
      : left_(left),
        right_(right),
        id_(id),
        recvBase_(recvBase),
        sendBase_(sendBase),
        dtype_(dtype),
        elemSize_(elemSize),
        buf_(buf),
        recvs_(std::move(recvs)),
        sends_(std::move(sends)),
        reduce_(reduce),
        ready_(sends_.size(), 0),
        sendCrcs_(sends_.size()),
        runs_(recvs_.size()),
        frameBytes_(right->frameBytes()),
        ownCrcs_(right->checksumming() && right->connections() == 1) {
    for (size_t j = 0; j < sends_.size(); j++) ready_[j] = sends_[j].initial ? 1 : 0;
    for (Run& run : runs_) run.ok = ownCrcs_;
  }

  // On the JavaScript thread, with both peers running.
  void start() {
    for (size_t i = 0; i < recvs_.size(); i++) post(i);
    drainCompleted();
    issueSends();
    finishIfDone(left_);
  }

  void onRecvDone(uint32_t tag) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      completed_.push_back(tag);
    }
    drainCompleted();
    issueSends();
    finishIfDone(left_);
  }

  // Messages of this all-reduce finished so far (sent or received).
  size_t progress() const { return recvsDone_.load() + sendsDone_.load(); }

  void onSendDone(uint32_t) override {
    sendsDone_.fetch_add(1);
    finishIfDone(right_);
  }

  void onData(uint32_t tag, uint64_t offset, const uint8_t* data, uint64_t length) override {
    const RingRecv& r = recvs_[tag];
    uint8_t* acc = buf_ + r.offset + offset;
    const uint64_t e = elemSize_;
    if (offset % e == 0 && length % e == 0) {
      reduce_(dtype_, r.op, r.divisor, acc, acc, data, length);
      checksumReduced(tag, offset, acc, length);
      return;
    }
    runs_[tag].ok = false;
    // A sender whose frames split elements: whole elements directly, the
    // bytes of split ones gathered until complete.
    uint64_t at = 0;
    while (at < length) {
      const uint64_t pos = offset + at;
      if (pos % e == 0 && length - at >= e) {
        const uint64_t whole = (length - at) / e * e;
        reduce_(dtype_, r.op, r.divisor, buf_ + r.offset + pos, buf_ + r.offset + pos, data + at, whole);
        at += whole;
        continue;
      }
      const uint64_t index = pos / e;
      const uint64_t take = std::min<uint64_t>(e - pos % e, length - at);
      std::lock_guard<std::mutex> lock(splitMu_);
      Split& part = split_[(static_cast<uint64_t>(tag) << 40) | index];
      memcpy(part.bytes + pos % e, data + at, take);
      part.have += static_cast<uint32_t>(take);
      if (part.have == e) {
        uint8_t* out = buf_ + r.offset + index * e;
        reduce_(dtype_, r.op, r.divisor, out, out, part.bytes, e);
        split_.erase((static_cast<uint64_t>(tag) << 40) | index);
      }
      at += take;
    }
  }

  void onFrameCrc(uint32_t tag, uint64_t offset, uint64_t length, uint32_t crc) override {
    if (ownCrcs_) runs_[tag].frames.push_back({offset, length, crc});
  }

 private:
  struct Split {
    uint8_t bytes[8];
    uint32_t have = 0;
  };

  struct Frame {
    uint64_t offset;
    uint64_t length;
    uint32_t crc;
  };

  // Per receive: the running CRC of a reduced chunk's outgoing frames, or
  // the verified CRCs of an all-gather chunk's incoming frames.
  struct Run {
    bool ok = false;
    uint64_t next = 0;
    uint32_t crc = 0;
    std::vector<uint32_t> crcs;
    std::vector<Frame> frames;
  };

  // Continues receive `tag`'s outgoing frame CRCs over the reduced bytes
  // [offset, offset + length) at `out`, which arrive in order on one
  // connection; anything else gives up (the engine computes them).
  void checksumReduced(uint32_t tag, uint64_t offset, const uint8_t* out, uint64_t length) {
    Run& run = runs_[tag];
    if (!run.ok) return;
    if (offset != run.next) {
      run.ok = false;
      return;
    }
    while (length > 0) {
      const uint64_t frameEnd = (run.next / frameBytes_ + 1) * frameBytes_;
      const uint64_t take = std::min<uint64_t>(length, frameEnd - run.next);
      run.crc = plexus_crc32::update(run.crc, out, take);
      out += take;
      length -= take;
      run.next += take;
      if (run.next == frameEnd) {
        run.crcs.push_back(run.crc);
        run.crc = 0;
      }
    }
  }

  // The payload CRCs of the frames the send of receive `i`'s chunk will
  // cut, where known (else empty: the engine computes them).
  std::vector<uint32_t> knownCrcs(size_t i) {
    Run& run = runs_[i];
    const RingRecv& r = recvs_[i];
    if (!run.ok) return {};
    if (r.reduce) {
      if (run.next != r.length) return {};
      if (r.length == 0 || r.length % frameBytes_ != 0) run.crcs.push_back(run.crc);
      return std::move(run.crcs);
    }
    // Forwarded: the frames that came in must be exactly the ones we cut.
    std::sort(run.frames.begin(), run.frames.end(),
              [](const Frame& a, const Frame& b) { return a.offset < b.offset; });
    const uint64_t count = r.length == 0 ? 1 : (r.length + frameBytes_ - 1) / frameBytes_;
    if (run.frames.size() != count) return {};
    std::vector<uint32_t> crcs;
    for (uint64_t m = 0; m < count; m++) {
      const Frame& f = run.frames[m];
      if (f.offset != m * frameBytes_ ||
          f.length != std::min<uint64_t>(frameBytes_, r.length - f.offset))
        return {};
      crcs.push_back(f.crc);
    }
    return crcs;
  }

  void post(size_t i) {
    const RingRecv& r = recvs_[i];
    const auto got = left_->postRecvHooked(
        recvBase_ + static_cast<uint32_t>(i), r.reduce ? nullptr : buf_ + r.offset, r.length,
        shared_from_this(), static_cast<uint32_t>(i), r.reduce ? elemSize_ : 0);
    if (got == Peer::HookedPosting::copied) {
      std::lock_guard<std::mutex> lock(mu_);
      completed_.push_back(static_cast<uint32_t>(i));
    } else if (got == Peer::HookedPosting::mismatch) {
      left_->fault("ring all-reduce: message " + std::to_string(recvBase_ + i) +
                   " arrived with another length than the " + std::to_string(r.length) +
                   " bytes expected (the ranks disagree on the buffer)");
    }
  }

  // Handles finished receives one thread at a time: unlocks the send that
  // carries the chunk on (reduced already, piece by piece, in onData).
  void drainCompleted() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (draining_) return;
      draining_ = true;
    }
    for (;;) {
      uint32_t i;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (completed_.empty()) {
          draining_ = false;
          return;
        }
        i = completed_.front();
        completed_.pop_front();
      }
      const RingRecv& r = recvs_[i];
      if (r.unlockSend >= 0) {
        std::vector<uint32_t> crcs = knownCrcs(i);
        std::lock_guard<std::mutex> lock(mu_);
        sendCrcs_[r.unlockSend] = std::move(crcs);
        ready_[r.unlockSend] = 1;
      }
      recvsDone_.fetch_add(1);
    }
  }

  // Sends what is ready, strictly in schedule order (the message numbers
  // the receiver posts), one thread at a time; the lock is not held while
  // the peer takes a message, which may complete (onSendDone) right away.
  void issueSends() {
    std::unique_lock<std::mutex> lock(mu_);
    if (issuing_) return;
    issuing_ = true;
    while (next_ < sends_.size() && ready_[next_]) {
      const size_t j = next_++;
      std::vector<uint32_t> crcs = std::move(sendCrcs_[j]);
      lock.unlock();
      const RingSend& s = sends_[j];
      right_->send(sendBase_ + static_cast<uint32_t>(j), buf_ + s.offset, s.length,
                   shared_from_this(), static_cast<uint32_t>(j), std::move(crcs));
      lock.lock();
    }
    issuing_ = false;
  }

  // `via`: a peer whose thread is running now (so its event channel is open).
  void finishIfDone(Peer* via) {
    if (recvsDone_.load() == recvs_.size() && sendsDone_.load() == sends_.size() &&
        !finished_.exchange(true)) {
      via->notify(kRingDone, id_);
    }
  }

  Peer* const left_;
  Peer* const right_;
  const uint32_t id_;
  const uint32_t recvBase_;
  const uint32_t sendBase_;
  const int dtype_;
  const uint32_t elemSize_;
  uint8_t* const buf_;
  const std::vector<RingRecv> recvs_;
  const std::vector<RingSend> sends_;
  const ReduceFn reduce_;

  std::mutex mu_;
  std::vector<char> ready_;
  size_t next_ = 0;
  bool issuing_ = false;
  bool draining_ = false;
  std::deque<uint32_t> completed_;
  std::mutex splitMu_;
  std::unordered_map<uint64_t, Split> split_;
  std::vector<std::vector<uint32_t>> sendCrcs_;  // guarded by mu_
  // Touched only by the thread that reads receive i's bytes, then (after its
  // end is queued under mu_) by the one that handles its end.
  std::vector<Run> runs_;
  const uint64_t frameBytes_;
  const bool ownCrcs_;
  std::atomic<size_t> recvsDone_{0};
  std::atomic<size_t> sendsDone_{0};
  std::atomic<bool> finished_{false};
};

}  // namespace plexus_tcp
