#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

/* EVP_PKEY_PUBLIC_KEY is a composite macro that Swift does not import. */
static const int CHAT_EVP_PKEY_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY;

/* TLS client (remote fetch). */
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* SSL_set_tlsext_host_name and SSL_CTX_set_min_proto_version are macros over *_ctrl that Swift does not import. */
static inline int chat_ssl_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
static inline int chat_ssl_ctx_require_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}
