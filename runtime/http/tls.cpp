#include "runtime/http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstring>

#include "runtime/http/connection.h"
#include "runtime/http/socket.h"
#include "runtime/http/transport.h"

namespace cicada::http {

std::string TlsSettings::key() const {
  return std::string(verify ? "v" : "n") + "\x1f" + ca_file + "\x1f" + cert_file + "\x1f" + key_file;
}

TlsContexts::~TlsContexts() {
  for (auto& [key, ctx] : contexts_) SSL_CTX_free(ctx);
  for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
}

std::string last_tls_error() {
  unsigned long code = ERR_get_error();
  unsigned long next;
  // The last error on the queue is the most specific one.
  while ((next = ERR_get_error()) != 0) code = next;
  if (code == 0) return "handshake failed";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

SSL_CTX* TlsContexts::context_for(const TlsSettings& settings, std::string* error) {
  std::string key = settings.key();
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *error = "tls: cannot create a context (" + last_tls_error() + ")";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);
  // Sessions (with TLS 1.3, tickets that arrive after the handshake) are kept per endpoint by
  // the connection that received them, for the next connection to resume.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, [](SSL* ssl, SSL_SESSION* session) -> int {
    auto* socket = static_cast<Socket*>(SSL_get_app_data(ssl));
    if (!socket || !socket->owner) return 0;
    socket->owner->tls_contexts().remember_session(socket->owner->tls_session_key(), session);
    return 1;  // we keep the reference
  });
  SSL_CTX_set_verify(ctx, settings.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  bool ok = true;
  if (settings.verify) {
    ok = settings.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                  : SSL_CTX_load_verify_locations(ctx, settings.ca_file.c_str(), nullptr) == 1;
    if (!ok) *error = "tls: cannot load CA file " + settings.ca_file + " (" + last_tls_error() + ")";
  }
  if (ok && !settings.cert_file.empty()) {
    const std::string& key_file = settings.key_file.empty() ? settings.cert_file : settings.key_file;
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.cert_file.c_str()) != 1) {
      *error = "tls: cannot load client certificate " + settings.cert_file + " (" + last_tls_error() + ")";
      ok = false;
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(ctx) != 1) {
      *error = "tls: cannot load client key " + key_file + " (" + last_tls_error() + ")";
      ok = false;
    }
  }
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  contexts_.emplace(key, ctx);
  return ctx;
}

SSL_SESSION* TlsContexts::session_for(const std::string& session_key) const {
  auto it = sessions_.find(session_key);
  return it == sessions_.end() ? nullptr : it->second;
}

void TlsContexts::remember_session(const std::string& session_key, SSL_SESSION* session) {
  auto [it, inserted] = sessions_.try_emplace(session_key, session);
  if (!inserted) {
    SSL_SESSION_free(it->second);
    it->second = session;
  }
}

namespace {

// Everything OpenSSL wants to send goes to the socket, in order.
int flush_to_socket(Socket& socket) {
  BIO* out = SSL_get_wbio(socket.ssl);
  std::array<char, 16 * 1024> chunk;
  while (BIO_ctrl_pending(out) > 0) {
    int n = BIO_read(out, chunk.data(), static_cast<int>(chunk.size()));
    if (n <= 0) break;
    int rc = socket_send(socket, std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    if (rc < 0) return rc;
  }
  return 0;
}

std::string verify_failure(SSL* ssl) {
  long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return std::string("tls: certificate verify failed (") + X509_verify_cert_error_string(result) + ")";
}

class TlsTransport final : public Transport {
 public:
  void on_connected(Connection& connection, Socket& socket) override {
    std::string error;
    SSL_CTX* ctx = connection.tls_context(&error);
    if (!ctx) {
      connection.on_transport_failed(error);
      return;
    }
    socket.ssl = SSL_new(ctx);
    SSL_set_app_data(socket.ssl, &socket);
    SSL_set_bio(socket.ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(socket.ssl);
    const Url& endpoint = connection.endpoint();
    if (endpoint.ipv6_literal || is_ipv4_literal(endpoint.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(socket.ssl), endpoint.host.c_str());
    } else {
      SSL_set_tlsext_host_name(socket.ssl, endpoint.host.c_str());
      SSL_set1_host(socket.ssl, endpoint.host.c_str());
    }
    if (SSL_SESSION* session = connection.tls_contexts().session_for(connection.tls_session_key()))
      SSL_set_session(socket.ssl, session);
    drive_handshake(connection, socket);
  }

  int write(Socket& socket, std::string_view bytes) override {
    ERR_clear_error();
    // Memory BIOs take everything at once, so one SSL_write per request.
    if (SSL_write(socket.ssl, bytes.data(), static_cast<int>(bytes.size())) <= 0) return UV_EPROTO;
    return flush_to_socket(socket);
  }

  void on_read(Connection& connection, Socket& socket, const char* data, std::size_t length) override {
    BIO_write(SSL_get_rbio(socket.ssl), data, static_cast<int>(length));
    if (!SSL_is_init_finished(socket.ssl)) {
      if (!drive_handshake(connection, socket)) return;
    }
    std::array<char, 16 * 1024> plain;
    // The connection may finish, start the next request or drop this socket while handling the
    // bytes: stop as soon as the socket is no longer its own.
    while (socket.owner) {
      ERR_clear_error();
      int n = SSL_read(socket.ssl, plain.data(), static_cast<int>(plain.size()));
      if (n > 0) {
        connection.on_plaintext(plain.data(), static_cast<std::size_t>(n));
        continue;
      }
      int reason = SSL_get_error(socket.ssl, n);
      if (reason == SSL_ERROR_WANT_READ) break;
      if (reason == SSL_ERROR_ZERO_RETURN) {
        connection.on_peer_closed();  // close_notify: the same as the end of the stream
      } else {
        connection.on_transport_failed("tls: " + last_tls_error());
      }
      break;
    }
    if (socket.owner) flush_to_socket(socket);  // e.g. a session ticket acknowledgement
  }

 private:
  static bool is_ipv4_literal(const std::string& host) {
    sockaddr_in address{};
    return uv_ip4_addr(host.c_str(), 0, &address) == 0;
  }

  // Returns true once the handshake is complete.
  bool drive_handshake(Connection& connection, Socket& socket) {
    ERR_clear_error();
    int rc = SSL_do_handshake(socket.ssl);
    if (flush_to_socket(socket) < 0) {
      connection.on_transport_failed("tls: the connection broke during the handshake");
      return false;
    }
    if (rc == 1) {
      connection.on_transport_ready();
      return true;
    }
    int reason = SSL_get_error(socket.ssl, rc);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return false;
    std::string failure = verify_failure(socket.ssl);
    connection.on_transport_failed(failure.empty() ? "tls: " + last_tls_error() : failure);
    return false;
  }
};

}  // namespace

Transport& tls_transport() {
  static TlsTransport transport;
  return transport;
}

}  // namespace cicada::http
