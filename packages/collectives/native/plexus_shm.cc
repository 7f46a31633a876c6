// plexus_shm: the native half of @plexus/collectives' zero-copy shared-memory
// path. Node has no mmap, so this N-API addon maps /dev/shm files as external
// ArrayBuffers, reduces typed data straight out of those mappings, and gives
// the ranks a futex-based sequence counter to synchronise on.
//
// Exports:
//   map(path, bytes, create) -> { buffer: ArrayBuffer, handle }   MAP_SHARED mapping
//   unmap(handle, buffer)                                          detach + munmap now
//   reduce(dtype, op, divisor, out1, out2|null, [src0, src1, ...]) out = src0 op src1 op ...
//   streamCopy(dst, src)                                           copy (no overlap), non-temporal stores
//   signal(int32array, index, value)                               store-release + FUTEX_WAKE
//   wait(int32array, index, target, timeoutMs, spins) -> boolean   until value - target >= 0
//   crc32(crc, view) -> number                                     zlib's crc32, for TCP frames
//   tcpOpen(config, sendFds, sendSeqs, recvFds, recvSeqs, label, onEvent) -> handle
//   tcpSend(handle, msgSeq, view) / tcpPostRecv(handle, msgSeq, view|null) -> ArrayBuffer|true|undefined
//   tcpClose(handle, graceful)                                     the TCP transport's data path (tcp_engine.h)
//
// Built by scripts/build-native.mjs with g++ against Node's headers (N-API is
// ABI-stable, so one binary serves every Node >= 20).
#define NAPI_VERSION 8
#include <node_api.h>

#include "crc32.h"
#include "tcp_engine.h"
#include "ring_op.h"
#include "stream_copy.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, nullptr, "plexus_shm: N-API call failed"); \
      return nullptr;                                                  \
    }                                                                  \
  } while (0)

napi_value fail(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, ("plexus_shm: " + message).c_str());
  return nullptr;
}

// One mapping, shared by the ArrayBuffer's finalizer and the handle's: the
// region is unmapped exactly once (by unmap() or the buffer's finalizer) and
// the record freed when both finalizers have run.
struct Mapping {
  void* addr;
  size_t bytes;
  std::atomic<bool> unmapped{false};
  std::atomic<int> refs{2};
};

void release(Mapping* m) {
  if (m->refs.fetch_sub(1) == 1) delete m;
}

void unmapOnce(Mapping* m) {
  bool expected = false;
  if (m->unmapped.compare_exchange_strong(expected, true)) munmap(m->addr, m->bytes);
}

void finalizeBuffer(napi_env, void*, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  unmapOnce(m);
  release(m);
}

void finalizeHandle(napi_env, void* data, void*) { release(static_cast<Mapping*>(data)); }

napi_value Map(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 3) return fail(env, "map(path, bytes, create) takes 3 arguments");
  char path[4096];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok)
    return fail(env, "map: expected path to be a string");
  double bytesD = 0;
  if (napi_get_value_double(env, argv[1], &bytesD) != napi_ok || !(bytesD > 0) ||
      bytesD != std::floor(bytesD) || bytesD > 1099511627776.0)
    return fail(env, "map: expected bytes to be a positive integer");
  bool create = false;
  if (napi_get_value_bool(env, argv[2], &create) != napi_ok)
    return fail(env, "map: expected create to be a boolean");
  const size_t bytes = static_cast<size_t>(bytesD);
  const int fd = create ? open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
                        : open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(env, std::string("open ") + path + ": " + strerror(errno));
  if (create) {
    // Reserve the pages now: on a full tmpfs (Docker's /dev/shm is 64 MiB)
    // a mapped page that cannot be allocated is a SIGBUS at first touch,
    // where this is an error the transport can fall back on.
    int e = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    if (e == EOPNOTSUPP || e == EINVAL) e = ftruncate(fd, static_cast<off_t>(bytes)) == 0 ? 0 : errno;
    if (e != 0) {
      close(fd);
      unlink(path);
      return fail(env, std::string("reserving ") + std::to_string(bytes) + " bytes for " + path +
                           ": " + strerror(e));
    }
  }
  if (!create) {
    struct stat st;
    if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < bytes) {
      close(fd);
      return fail(env, std::string(path) + " is shorter than the " + std::to_string(bytes) +
                           " bytes to map");
    }
  }
  void* addr = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int mapErrno = errno;
  // The mapping keeps the file alive; the descriptor is no longer needed.
  close(fd);
  if (addr == MAP_FAILED) {
    if (create) unlink(path);
    return fail(env, std::string("mmap ") + path + ": " + strerror(mapErrno));
  }
  auto* m = new Mapping{addr, bytes};
  napi_value buffer, handle, result;
  if (napi_create_external_arraybuffer(env, addr, bytes, finalizeBuffer, m, &buffer) != napi_ok) {
    munmap(addr, bytes);
    delete m;
    return fail(env, "napi_create_external_arraybuffer failed");
  }
  CHECK(napi_create_external(env, m, finalizeHandle, nullptr, &handle));
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "buffer", buffer));
  CHECK(napi_set_named_property(env, result, "handle", handle));
  return result;
}

napi_value Unmap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* data = nullptr;
  if (argc < 2 || napi_get_value_external(env, argv[0], &data) != napi_ok)
    return fail(env, "unmap: expected the handle that map() returned");
  // Detach first, so that no JS view can touch the region once it is gone.
  bool detached = false;
  if (napi_is_detached_arraybuffer(env, argv[1], &detached) == napi_ok && !detached)
    CHECK(napi_detach_arraybuffer(env, argv[1]));
  unmapOnce(static_cast<Mapping*>(data));
  return nullptr;
}

// ---- reduction -----------------------------------------------------------

enum Op { kSum = 0, kProd = 1, kMin = 2, kMax = 3, kAvg = 4 };
enum DType { kF32 = 0, kF64 = 1, kI32 = 2, kI64 = 3, kU8 = 4 };

// min/max as the package's JS loop and wasm's f32.min do it: NaN wins and
// -0 orders below +0, so every path gives the same bits.
template <typename T>
inline T fmin_(T x, T y) {
  return (y < x || std::isnan(y) || (y == 0 && x == 0 && std::signbit(y))) ? y : x;
}
template <typename T>
inline T fmax_(T x, T y) {
  return (y > x || std::isnan(y) || (y == 0 && x == 0 && !std::signbit(y))) ? y : x;
}

// Integers wrap: do the arithmetic unsigned (defined overflow) and store back.
template <typename T>
struct Arith {
  using U = T;
  static T add(T a, T b) { return a + b; }
  static T mul(T a, T b) { return a * b; }
  static T mn(T a, T b) { return fmin_(a, b); }
  static T mx(T a, T b) { return fmax_(a, b); }
  // JS divides a float32 in double and rounds once more on the store; doing
  // the same keeps the bits equal to the generic algorithms.
  static T avg(T a, int n) { return static_cast<T>(static_cast<double>(a) / n); }
};
template <typename T, typename UT>
struct IntArith {
  static T add(T a, T b) { return static_cast<T>(static_cast<UT>(a) + static_cast<UT>(b)); }
  static T mul(T a, T b) { return static_cast<T>(static_cast<UT>(a) * static_cast<UT>(b)); }
  static T mn(T a, T b) { return b < a ? b : a; }
  static T mx(T a, T b) { return b > a ? b : a; }
  // Truncating division of the wrapped sum, as Math.trunc(a / n) and BigInt division do.
  static T avg(T a, int n) { return static_cast<T>(a / static_cast<int64_t>(n)); }
};
template <>
struct Arith<int32_t> : IntArith<int32_t, uint32_t> {};
template <>
struct Arith<int64_t> : IntArith<int64_t, uint64_t> {};
template <>
struct Arith<uint8_t> : IntArith<uint8_t, uint32_t> {};

constexpr size_t kBlockBytes = 8192;

// Blocks that fit in L1: sources are streamed once each, the accumulator
// stays in cache, and each destination is written once.
template <typename T, typename F>
void reduceBlocks(T* out1, T* out2, const std::vector<const T*>& src, size_t n, F f, int divisor) {
  constexpr size_t B = kBlockBytes / sizeof(T);
  alignas(64) T acc[B];
  const size_t k = src.size();
  for (size_t base = 0; base < n; base += B) {
    const size_t m = n - base < B ? n - base : B;
    const T* s0 = src[0] + base;
    const T* s1 = k > 1 ? src[1] + base : nullptr;
    if (s1 != nullptr) {
      for (size_t i = 0; i < m; i++) acc[i] = f(s0[i], s1[i]);
    } else {
      std::memcpy(acc, s0, m * sizeof(T));
    }
    for (size_t j = 2; j < k; j++) {
      const T* s = src[j] + base;
      for (size_t i = 0; i < m; i++) acc[i] = f(acc[i], s[i]);
    }
    if (divisor > 0)
      for (size_t i = 0; i < m; i++) acc[i] = Arith<T>::avg(acc[i], divisor);
    std::memcpy(out1 + base, acc, m * sizeof(T));
    if (out2 != nullptr) std::memcpy(out2 + base, acc, m * sizeof(T));
  }
}

template <typename T>
bool reduceTyped(int op, int divisor, void* o1, void* o2, const std::vector<void*>& s, size_t n) {
  std::vector<const T*> src;
  for (void* p : s) src.push_back(static_cast<const T*>(p));
  T* out1 = static_cast<T*>(o1);
  T* out2 = static_cast<T*>(o2);
  using A = Arith<T>;
  switch (op) {
    case kSum:
      reduceBlocks(out1, out2, src, n, [](T a, T b) { return A::add(a, b); }, 0);
      return true;
    case kAvg:
      reduceBlocks(out1, out2, src, n, [](T a, T b) { return A::add(a, b); }, divisor);
      return true;
    case kProd:
      reduceBlocks(out1, out2, src, n, [](T a, T b) { return A::mul(a, b); }, 0);
      return true;
    case kMin:
      reduceBlocks(out1, out2, src, n, [](T a, T b) { return A::mn(a, b); }, 0);
      return true;
    case kMax:
      reduceBlocks(out1, out2, src, n, [](T a, T b) { return A::mx(a, b); }, 0);
      return true;
  }
  return false;
}

// A typed array's data and byte length (and its type, where `typeOut` is given).
bool viewData(napi_env env, napi_value v, void** data, size_t* bytes,
              napi_typedarray_type* typeOut = nullptr) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return false;
  size_t elem = 1;
  switch (type) {
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      elem = 8;
      break;
    case napi_float32_array:
    case napi_int32_array:
    case napi_uint32_array:
      elem = 4;
      break;
    case napi_int16_array:
    case napi_uint16_array:
      elem = 2;
      break;
    default:
      elem = 1;
  }
  *bytes = length * elem;
  if (typeOut != nullptr) *typeOut = type;
  return true;
}

// Bytes per element of each DType.
constexpr size_t kElemBytes[] = {4, 8, 4, 8, 1};

// out1 (and out2 unless null) = the sources reduced elementwise, `n`
// elements of `dtype`; false for an unknown dtype or op.
bool reduceAny(int dtype, int op, int divisor, void* o1, void* o2, const std::vector<void*>& src,
               size_t n) {
  switch (dtype) {
    case kF32: return reduceTyped<float>(op, divisor, o1, o2, src, n);
    case kF64: return reduceTyped<double>(op, divisor, o1, o2, src, n);
    case kI32: return reduceTyped<int32_t>(op, divisor, o1, o2, src, n);
    case kI64: return reduceTyped<int64_t>(op, divisor, o1, o2, src, n);
    case kU8: return reduceTyped<uint8_t>(op, divisor, o1, o2, src, n);
  }
  return false;
}

napi_value Reduce(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 6) return fail(env, "reduce(dtype, op, divisor, out1, out2, sources) takes 6 arguments");
  int32_t dtype = 0, op = 0, divisor = 0;
  CHECK(napi_get_value_int32(env, argv[0], &dtype));
  CHECK(napi_get_value_int32(env, argv[1], &op));
  CHECK(napi_get_value_int32(env, argv[2], &divisor));
  if (dtype < kF32 || dtype > kU8) return fail(env, "reduce: unknown dtype code");
  const size_t elem = kElemBytes[dtype];
  void *o1 = nullptr, *o2 = nullptr;
  size_t b1 = 0, b2 = 0;
  if (!viewData(env, argv[3], &o1, &b1)) return fail(env, "reduce: expected out1 to be a typed array");
  napi_valuetype t2;
  CHECK(napi_typeof(env, argv[4], &t2));
  if (t2 != napi_null && t2 != napi_undefined) {
    if (!viewData(env, argv[4], &o2, &b2) || b2 != b1)
      return fail(env, "reduce: expected out2 to be null or a typed array as long as out1");
  }
  bool isArray = false;
  CHECK(napi_is_array(env, argv[5], &isArray));
  uint32_t k = 0;
  if (!isArray || napi_get_array_length(env, argv[5], &k) != napi_ok || k == 0)
    return fail(env, "reduce: expected sources to be a non-empty array");
  std::vector<void*> src(k);
  for (uint32_t j = 0; j < k; j++) {
    napi_value v;
    CHECK(napi_get_element(env, argv[5], j, &v));
    size_t b = 0;
    if (!viewData(env, v, &src[j], &b) || b != b1)
      return fail(env, "reduce: expected every source to be a typed array as long as out1");
  }
  if (b1 % elem != 0) return fail(env, "reduce: byte length is not a whole number of elements");
  const size_t n = b1 / elem;
  if (n == 0) return nullptr;
  if (!reduceAny(dtype, op, divisor, o1, o2, src, n)) return fail(env, "reduce: unknown op code");
  return nullptr;
}

napi_value StreamCopy(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void *dst = nullptr, *src = nullptr;
  size_t bd = 0, bs = 0;
  if (argc < 2 || !viewData(env, argv[0], &dst, &bd) || !viewData(env, argv[1], &src, &bs) ||
      bd != bs)
    return fail(env, "streamCopy: expected dst and src to be typed arrays of the same byte length");
  if (bd > 0) plexus_copy::streamCopy(dst, src, bd);
  return nullptr;
}

// ---- synchronisation -------------------------------------------------------

bool counterAt(napi_env env, napi_value view, napi_value index, int32_t** word) {
  void* data = nullptr;
  size_t bytes = 0;
  uint32_t i = 0;
  if (!viewData(env, view, &data, &bytes)) return false;
  if (napi_get_value_uint32(env, index, &i) != napi_ok) return false;
  if ((static_cast<size_t>(i) + 1) * 4 > bytes || reinterpret_cast<uintptr_t>(data) % 4 != 0)
    return false;
  *word = static_cast<int32_t*>(data) + i;
  return true;
}

napi_value Signal(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t* word = nullptr;
  int32_t value = 0;
  if (argc < 3 || !counterAt(env, argv[0], argv[1], &word) ||
      napi_get_value_int32(env, argv[2], &value) != napi_ok)
    return fail(env, "signal(int32array, index, value): bad arguments");
  // Release: every plain store of the phase (JS copies, reductions) is
  // visible to a peer that observes the new value.
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  return nullptr;
}

napi_value Wait(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t* word = nullptr;
  int32_t target = 0, spins = 0;
  double timeoutMs = 0;
  if (argc < 5 || !counterAt(env, argv[0], argv[1], &word) ||
      napi_get_value_int32(env, argv[2], &target) != napi_ok ||
      napi_get_value_double(env, argv[3], &timeoutMs) != napi_ok ||
      napi_get_value_int32(env, argv[4], &spins) != napi_ok)
    return fail(env, "wait(int32array, index, target, timeoutMs, spins): bad arguments");
  // Sequence numbers wrap: compare by signed difference.
  auto reached = [&](int32_t v) {
    return static_cast<int32_t>(static_cast<uint32_t>(v) - static_cast<uint32_t>(target)) >= 0;
  };
  bool done = false;
  // A short spin catches a peer that is a few microseconds behind without a
  // sleep and a wake-up; past it, sleep in the kernel. The caller passes 0
  // spins when ranks outnumber cores: spinning would take the core the peer
  // needs to get there.
  for (int32_t i = 0; i < spins && !done; i++) {
    if (reached(__atomic_load_n(word, __ATOMIC_ACQUIRE))) done = true;
    else __builtin_ia32_pause();
  }
  if (!done) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
      const int32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
      if (reached(v)) {
        done = true;
        break;
      }
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      const double elapsed =
          (now.tv_sec - start.tv_sec) * 1e3 + (now.tv_nsec - start.tv_nsec) / 1e6;
      const double left = timeoutMs - elapsed;
      if (left <= 0) break;
      struct timespec ts;
      ts.tv_sec = static_cast<time_t>(left / 1e3);
      ts.tv_nsec = static_cast<long>((left - ts.tv_sec * 1e3) * 1e6);
      // Sleeps only while the word still holds v: no lost wake-up.
      syscall(SYS_futex, word, FUTEX_WAIT, v, &ts, nullptr, 0);
    }
  }
  napi_value result;
  CHECK(napi_get_boolean(env, done, &result));
  return result;
}

// crc32(crc, view) -> number: zlib's crc32(view, crc), for the TCP
// transport's frame checksums (native/crc32.h; 3-6x Node's zlib here).
napi_value Crc32(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint32_t crc = 0;
  void* data = nullptr;
  size_t bytes = 0;
  if (argc < 2 || napi_get_value_uint32(env, argv[0], &crc) != napi_ok ||
      !viewData(env, argv[1], &data, &bytes)) {
    return fail(env, "crc32(crc, view): expected a uint32 and a typed array");
  }
  napi_value result;
  CHECK(napi_create_uint32(
      env, plexus_crc32::update(crc, static_cast<const uint8_t*>(data), bytes), &result));
  return result;
}

// ---- TCP data path (tcp_engine.h) -------------------------------------------

bool uint32Array(napi_env env, napi_value v, std::vector<uint32_t>* out) {
  bool isArray = false;
  if (napi_is_array(env, v, &isArray) != napi_ok || !isArray) return false;
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    uint32_t x;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_uint32(env, e, &x) != napi_ok)
      return false;
    out->push_back(x);
  }
  return true;
}

bool numberProp(napi_env env, napi_value obj, const char* name, double* out) {
  napi_value v;
  return napi_get_named_property(env, obj, name, &v) == napi_ok &&
         napi_get_value_double(env, v, out) == napi_ok;
}

void freeStaged(napi_env, void* data, void*) { free(data); }

// An ArrayBuffer over a staged message, which it takes over (freed by the
// buffer's finalizer, or here). Where external buffers are not allowed (V8's
// memory sandbox), a copy.
bool stagedArrayBuffer(napi_env env, uint8_t* data, uint64_t length, napi_value* out) {
  if (napi_create_external_arraybuffer(env, data, length, freeStaged, nullptr, out) == napi_ok) {
    return true;
  }
  void* copy = nullptr;
  const bool ok = napi_create_arraybuffer(env, length, &copy, out) == napi_ok;
  if (ok && length > 0) memcpy(copy, data, length);
  free(data);
  return ok;
}

// Delivers the engine's events to the peer's JavaScript callback:
// (kind, msgSeq, stagedArrayBuffer | undefined, conn, reason).
void TcpCallJs(napi_env env, napi_value cb, void* context, void*) {
  auto* peer = static_cast<plexus_tcp::Peer*>(context);
  std::deque<plexus_tcp::Event> events;
  peer->drain(&events);
  for (auto& e : events) {
    if (env == nullptr || cb == nullptr) {
      free(e.staged);
      continue;
    }
    napi_value args[5], undefined;
    napi_get_undefined(env, &undefined);
    napi_create_int32(env, e.kind, &args[0]);
    napi_create_uint32(env, e.msgSeq, &args[1]);
    args[2] = undefined;
    if (e.staged != nullptr && !stagedArrayBuffer(env, e.staged, e.length, &args[2])) {
      // Not deliverable: fail the peer rather than resolve without the data.
      e.kind = plexus_tcp::kFailed;
      e.reason = "cannot hand a received message of " + std::to_string(e.length) + " bytes to JavaScript";
      args[2] = undefined;
      napi_create_int32(env, e.kind, &args[0]);
    }
    napi_create_int32(env, e.conn, &args[3]);
    napi_create_string_utf8(env, e.reason.c_str(), e.reason.size(), &args[4]);
    napi_call_function(env, undefined, cb, 5, args, nullptr);
  }
}

void TcpFinalize(napi_env, void* data, void*) { static_cast<plexus_tcp::Peer*>(data)->release(); }

void TcpHandleFinalize(napi_env, void* data, void*) {
  static_cast<plexus_tcp::Peer*>(data)->release();
}



plexus_tcp::Peer* peerOf(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok) return nullptr;
  return static_cast<plexus_tcp::Peer*>(data);
}

napi_value TcpOpen(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::vector<uint32_t> sendFds, sendSeqs, recvFds, recvSeqs;
  double frameBytes, maxFrameBytes, maxMessageBytes, stripeMinBytes, checksum;
  size_t labelLen = 0;
  char label[256];
  if (argc < 7 || !numberProp(env, argv[0], "frameBytes", &frameBytes) ||
      !numberProp(env, argv[0], "maxFrameBytes", &maxFrameBytes) ||
      !numberProp(env, argv[0], "maxMessageBytes", &maxMessageBytes) ||
      !numberProp(env, argv[0], "stripeMinBytes", &stripeMinBytes) ||
      !numberProp(env, argv[0], "checksum", &checksum) || !uint32Array(env, argv[1], &sendFds) ||
      !uint32Array(env, argv[2], &sendSeqs) || !uint32Array(env, argv[3], &recvFds) ||
      !uint32Array(env, argv[4], &recvSeqs) || sendFds.empty() || sendFds.size() != sendSeqs.size() ||
      recvFds.size() != sendFds.size() || recvSeqs.size() != recvFds.size() ||
      napi_get_value_string_utf8(env, argv[5], label, sizeof label, &labelLen) != napi_ok) {
    return fail(env, "tcpOpen(config, sendFds, sendSeqs, recvFds, recvSeqs, label, onEvent): bad arguments");
  }
  // Frame sizes travel in 32 bits; larger limits mean "any".
  const auto u32 = [](double v) {
    return v >= 4294967295.0 ? 4294967295u : static_cast<uint32_t>(v < 1 ? 1 : v);
  };
  plexus_tcp::Config config{u32(frameBytes), u32(maxFrameBytes),
                            static_cast<uint64_t>(maxMessageBytes),
                            static_cast<uint64_t>(stripeMinBytes), checksum != 0};
  auto* peer = new plexus_tcp::Peer(config, std::string(label, labelLen));
  void* registry = nullptr;
  if (napi_get_instance_data(env, &registry) == napi_ok && registry != nullptr)
    peer->enroll(*static_cast<std::shared_ptr<plexus_tcp::PeerRegistry>*>(registry));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "plexus-tcp-peer", NAPI_AUTO_LENGTH, &name));
  napi_threadsafe_function tsfn;
  if (napi_create_threadsafe_function(env, argv[6], nullptr, name, 0, 1, peer, TcpFinalize, peer,
                                      TcpCallJs, &tsfn) != napi_ok) {
    delete peer;
    return fail(env, "tcpOpen: cannot create the event channel");
  }
  std::vector<int> sfd(sendFds.begin(), sendFds.end()), rfd(recvFds.begin(), recvFds.end());
  std::string why;
  if (!peer->start(sfd, sendSeqs, rfd, recvSeqs, tsfn, &why)) {
    peer->stop(false);
    napi_release_threadsafe_function(tsfn, napi_tsfn_abort);
    peer->release();  // no handle will hold it
    return fail(env, "tcpOpen: " + why);
  }
  napi_value handle;
  if (napi_create_external(env, peer, TcpHandleFinalize, nullptr, &handle) != napi_ok) {
    peer->stop(false);
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    peer->release();  // the handle's share
    return fail(env, "tcpOpen: cannot create the peer handle");
  }
  return handle;
}

// The (handle, msgSeq, view) arguments of tcpSend and tcpPostRecv; a null or
// undefined view only where `viewOptional`. False on bad arguments.
bool peerCallArgs(napi_env env, napi_callback_info info, bool viewOptional,
                  plexus_tcp::Peer** peer, uint32_t* msgSeq, void** data, size_t* bytes) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 3) return false;
  *peer = peerOf(env, argv[0]);
  napi_valuetype t;
  if (*peer == nullptr || napi_get_value_uint32(env, argv[1], msgSeq) != napi_ok ||
      napi_typeof(env, argv[2], &t) != napi_ok) {
    return false;
  }
  if (viewOptional && (t == napi_null || t == napi_undefined)) return true;
  return viewData(env, argv[2], data, bytes);
}

napi_value TcpSend(napi_env env, napi_callback_info info) {
  plexus_tcp::Peer* peer = nullptr;
  uint32_t msgSeq = 0;
  void* data = nullptr;
  size_t bytes = 0;
  if (!peerCallArgs(env, info, false, &peer, &msgSeq, &data, &bytes)) {
    return fail(env, "tcpSend(handle, msgSeq, view): bad arguments");
  }
  peer->send(msgSeq, static_cast<const uint8_t*>(data), bytes);
  return nullptr;
}

napi_value TcpPostRecv(napi_env env, napi_callback_info info) {
  plexus_tcp::Peer* peer = nullptr;
  uint32_t msgSeq = 0;
  void* data = nullptr;
  size_t bytes = 0;
  if (!peerCallArgs(env, info, true, &peer, &msgSeq, &data, &bytes)) {
    return fail(env, "tcpPostRecv(handle, msgSeq, view | null): bad arguments");
  }
  plexus_tcp::Incoming ready{};
  const auto posting =
      peer->postRecv(msgSeq, static_cast<uint8_t*>(data), data == nullptr ? 0 : bytes, &ready);
  if (posting == plexus_tcp::Peer::Posting::posted) return nullptr;
  if (posting == plexus_tcp::Peer::Posting::copied) {
    napi_value yes;
    CHECK(napi_get_boolean(env, true, &yes));
    return yes;
  }
  napi_value buffer;
  if (!stagedArrayBuffer(env, ready.buf, ready.length, &buffer)) {
    return fail(env, "tcpPostRecv: cannot wrap a received message");
  }
  return buffer;
}

// plexus_tcp::ReduceFn over the kernels above: out = a (op) b.
bool ringReduce(int dtype, int op, int divisor, void* out, const void* a, const void* b,
                size_t bytes) {
  return reduceAny(dtype, op, divisor, out, nullptr, {const_cast<void*>(a), const_cast<void*>(b)},
                   bytes / kElemBytes[dtype]);
}

// A Float64Array's data and element count.
bool float64Array(napi_env env, napi_value v, const double** data, size_t* length) {
  void* raw = nullptr;
  size_t bytes = 0;
  napi_typedarray_type type;
  if (!viewData(env, v, &raw, &bytes, &type) || type != napi_float64_array) return false;
  *data = static_cast<const double*>(raw);
  *length = bytes / 8;
  return true;
}

// tcpRingAllReduce(left, right, id, recvBase, sendBase, dtype, buf, recvPlan,
// sendPlan): starts a ring all-reduce on the engine's threads (ring_op.h);
// kRingDone with `id` arrives on left's or right's events.
napi_value TcpRingAllReduce(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const char* usage =
      "tcpRingAllReduce(left, right, id, recvBase, sendBase, dtype, buf, recvPlan, sendPlan): "
      "bad arguments";
  if (argc != 9) return fail(env, usage);
  plexus_tcp::Peer* left = peerOf(env, argv[0]);
  plexus_tcp::Peer* right = peerOf(env, argv[1]);
  uint32_t id = 0, recvBase = 0, sendBase = 0;
  int32_t dtype = 0;
  void* buf = nullptr;
  size_t bufBytes = 0, recvLen = 0, sendLen = 0;
  const double *recvPlan = nullptr, *sendPlan = nullptr;
  if (left == nullptr || right == nullptr || napi_get_value_uint32(env, argv[2], &id) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &recvBase) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &sendBase) != napi_ok ||
      napi_get_value_int32(env, argv[5], &dtype) != napi_ok || dtype < kF32 || dtype > kU8 ||
      !viewData(env, argv[6], &buf, &bufBytes) || !float64Array(env, argv[7], &recvPlan, &recvLen) ||
      !float64Array(env, argv[8], &sendPlan, &sendLen) || recvLen % 6 != 0 || sendLen % 3 != 0) {
    return fail(env, usage);
  }
  // The plan comes from our own JavaScript, but a wrong offset here would
  // write outside the array: every range is checked once.
  const auto inside = [&](double off, double len) {
    return off >= 0 && len >= 0 && off + len <= static_cast<double>(bufBytes);
  };
  const size_t nr = recvLen / 6, ns = sendLen / 3;
  std::vector<plexus_tcp::RingRecv> recvs(nr);
  for (size_t i = 0; i < nr; i++) {
    const double* row = recvPlan + 6 * i;
    plexus_tcp::RingRecv& r = recvs[i];
    r.reduce = row[0] != 0;
    r.offset = static_cast<uint64_t>(row[1]);
    r.length = static_cast<uint64_t>(row[2]);
    r.op = static_cast<int32_t>(row[3]);
    r.divisor = static_cast<int32_t>(row[4]);
    r.unlockSend = static_cast<int64_t>(row[5]);
    if (!inside(row[1], row[2]) || r.op < kSum || r.op > kAvg || r.divisor < 0 ||
        r.unlockSend >= static_cast<int64_t>(ns)) {
      return fail(env, "tcpRingAllReduce: receive " + std::to_string(i) + " of the plan is out of range");
    }
  }
  std::vector<plexus_tcp::RingSend> sends(ns);
  for (size_t j = 0; j < ns; j++) {
    const double* row = sendPlan + 3 * j;
    sends[j] = {static_cast<uint64_t>(row[0]), static_cast<uint64_t>(row[1]), row[2] != 0};
    if (!inside(row[0], row[1]))
      return fail(env, "tcpRingAllReduce: send " + std::to_string(j) + " of the plan is out of range");
  }
  auto op = std::make_shared<plexus_tcp::RingOp>(left, right, id, recvBase, sendBase, dtype,
                                                 static_cast<uint32_t>(kElemBytes[dtype]),
                                                 static_cast<uint8_t*>(buf),
                                                 std::move(recvs), std::move(sends), ringReduce);
  op->start();
  // A handle for tcpRingProgress; it keeps nothing but the counters alive.
  auto* held = new std::shared_ptr<plexus_tcp::RingOp>(op);
  napi_value handle;
  if (napi_create_external(
          env, held,
          [](napi_env, void* data, void*) {
            delete static_cast<std::shared_ptr<plexus_tcp::RingOp>*>(data);
          },
          nullptr, &handle) != napi_ok) {
    delete held;
    return nullptr;
  }
  return handle;
}

// tcpRingProgress(handle): messages of that ring all-reduce finished so far.
napi_value TcpRingProgress(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* data = nullptr;
  if (argc != 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == nullptr)
    return fail(env, "tcpRingProgress(handle): bad arguments");
  napi_value out;
  CHECK(napi_create_double(
      env, static_cast<double>((*static_cast<std::shared_ptr<plexus_tcp::RingOp>*>(data))->progress()),
      &out));
  return out;
}

napi_value TcpClose(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  plexus_tcp::Peer* peer = argc == 2 ? peerOf(env, argv[0]) : nullptr;
  bool graceful = false;
  if (peer == nullptr || napi_get_value_bool(env, argv[1], &graceful) != napi_ok)
    return fail(env, "tcpClose(handle, graceful): bad arguments");
  peer->stop(graceful);
  // The event channel lets go of the peer once its queued events are
  // delivered; the handle keeps it (stopped) until collected.
  napi_release_threadsafe_function(peer->tsfn(), napi_tsfn_release);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"map", nullptr, Map, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"unmap", nullptr, Unmap, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"streamCopy", nullptr, StreamCopy, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"signal", nullptr, Signal, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"wait", nullptr, Wait, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"crc32", nullptr, Crc32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tcpOpen", nullptr, TcpOpen, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tcpSend", nullptr, TcpSend, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tcpPostRecv", nullptr, TcpPostRecv, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tcpClose", nullptr, TcpClose, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tcpRingAllReduce", nullptr, TcpRingAllReduce, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"tcpRingProgress", nullptr, TcpRingProgress, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  // Every TCP peer of this environment is stopped before any is freed (see
  // PeerRegistry); the hook runs before the environment's finalizers.
  auto* registry = new std::shared_ptr<plexus_tcp::PeerRegistry>(
      std::make_shared<plexus_tcp::PeerRegistry>());
  CHECK(napi_set_instance_data(env, registry, nullptr, nullptr));
  CHECK(napi_add_env_cleanup_hook(
      env,
      [](void* arg) {
        auto* held = static_cast<std::shared_ptr<plexus_tcp::PeerRegistry>*>(arg);
        (*held)->stopAll();
        delete held;
      },
      registry));
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
