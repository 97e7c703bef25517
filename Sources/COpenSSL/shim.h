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
