import Glibc
import Security
import Synchronization
import SystemSupport

// `chat-bench jwt [SECONDS]`: access-token verifications per second in-process, on 1 and 2 threads, with a
// 2048-bit key like the server's. Prints figures; asserts nothing (`make bench` runs it).

func seconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

let duration = Double(CommandLine.arguments.dropFirst(2).first ?? "") ?? 3
let key = try RSAPrivateKey.generate(bits: 2048)
let kid = "bench"
let now = Int(time(nil))
let claims = JWTClaims(
    sub: "12345", iat: now, nbf: now, exp: now + 900, jti: SecureRandom.token(byteCount: 16), iss: "chat",
    aud: "chat", sid: SecureRandom.token(byteCount: 16))
let token = try JWTSigner(kid: kid, key: key).sign(claims)
let verifier = JWTVerifier(keys: [kid: key.publicKey], issuer: "chat", audience: "chat")
guard (try? verifier.verify(token, now: now)) != nil else {
    print("the benchmark token does not verify")
    exit(1)
}

/// Verifies the token on `threads` threads for `duration` seconds; returns verifications per second.
func measure(threads: Int) throws -> Double {
    let total = Atomic<Int>(0)
    let deadline = seconds() + duration
    var workers: [NativeThread] = []
    let started = seconds()
    for index in 0..<threads {
        workers.append(
            try NativeThread.start(name: "bench-\(index)") {
                var count = 0
                while seconds() < deadline {
                    for _ in 0..<100 where (try? verifier.verify(token, now: now)) != nil { count += 1 }
                }
                total.add(count, ordering: .relaxed)
            })
    }
    for worker in workers { worker.join() }
    return Double(total.load(ordering: .relaxed)) / (seconds() - started)
}

print("JWT RS256 verification, \(token.utf8.count)-byte token, 2048-bit key, \(Int(duration)) s per run")
for threads in [1, 2] {
    let rate = try measure(threads: threads)
    print(
        "  \(threads) thread\(threads == 1 ? " " : "s"): \(Int(rate)) verifications/s (\(Int(rate) / threads) per thread)"
    )
}
