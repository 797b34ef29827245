// OpenSSL's digests (EVP), for Hub's Digest.
#include <openssl/evp.h>
