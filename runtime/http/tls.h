#pragma once
// TLS for the HTTP client, with OpenSSL over memory BIOs so that libuv keeps doing the I/O.
// Each thread keeps its SSL_CTXs (one per distinct set of settings) and the last session of
// each endpoint, so a reconnect resumes the session instead of a full handshake.
#include <map>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;

namespace cicada::http {

struct TlsSettings {
  bool verify = true;          // certificate chain and host name, against the system CAs or ca_file
  std::string ca_file;         // PEM bundle to trust instead of the system store
  std::string cert_file;       // client certificate (mutual TLS)
  std::string key_file;        // its private key (the certificate file when empty)

  // Identifies the settings: connections made with other settings are not reused for them.
  std::string key() const;
};

class TlsContexts {
 public:
  TlsContexts() = default;
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // The context for these settings, made on first use; null with `error` set when a file
  // cannot be loaded.
  SSL_CTX* context_for(const TlsSettings& settings, std::string* error);
  // The last session seen for `session_key` (borrowed), or null.
  SSL_SESSION* session_for(const std::string& session_key) const;
  // Takes a reference to `session` (from SSL_get1_session).
  void remember_session(const std::string& session_key, SSL_SESSION* session);

 private:
  std::map<std::string, SSL_CTX*> contexts_;
  std::map<std::string, SSL_SESSION*> sessions_;
};

// The most specific reason OpenSSL has for the last failure, for res.error ("tls: ...").
std::string last_tls_error();

}  // namespace cicada::http
