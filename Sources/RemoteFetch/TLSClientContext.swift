import COpenSSL

/// An OpenSSL client context: TLS 1.2 or later, peer verification on, trusting either the system's store or
/// one CA bundle. Shared by every fetch (an `SSL_CTX` is safe to use from several threads once configured).
final class TLSClientContext: @unchecked Sendable {
    // @unchecked: the context is configured in init and only read (SSL_new) afterwards.
    let context: OpaquePointer

    init(caFile: String?) throws(FetchError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .tls("cannot create a TLS context") }
        self.context = context
        guard chat_ssl_ctx_require_tls12(context) == 1 else { throw .tls("cannot require TLS 1.2") }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                ERR_clear_error()
                throw .caFile(caFile)
            }
        } else {
            SSL_CTX_set_default_verify_paths(context)
        }
    }

    deinit { SSL_CTX_free(context) }
}
