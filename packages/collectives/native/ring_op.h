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
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

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
        ready_(sends_.size(), 0) {
    for (size_t j = 0; j < sends_.size(); j++) ready_[j] = sends_[j].initial ? 1 : 0;
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
      return;
    }
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

 private:
  struct Split {
    uint8_t bytes[8];
    uint32_t have = 0;
  };

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
        std::lock_guard<std::mutex> lock(mu_);
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
      lock.unlock();
      const RingSend& s = sends_[j];
      right_->send(sendBase_ + static_cast<uint32_t>(j), buf_ + s.offset, s.length,
                   shared_from_this(), static_cast<uint32_t>(j));
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
  std::atomic<size_t> recvsDone_{0};
  std::atomic<size_t> sendsDone_{0};
  std::atomic<bool> finished_{false};
};

}  // namespace plexus_tcp
