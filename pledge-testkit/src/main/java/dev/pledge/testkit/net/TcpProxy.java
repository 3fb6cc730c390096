package dev.pledge.testkit.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP proxy on loopback between a client under test and a real server (a broker, a coordinator),
 * to inject the network faults a real deployment sees, without touching the server that other tests
 * share:
 *
 * <ul>
 *   <li>{@link #stall()}: bytes stop flowing in both directions, connections stay open, as when a
 *       broker hangs or a link is congested; {@link #resume()} lets the held bytes through.
 *   <li>{@link #cut()}: every open connection is closed at once (bytes held by a stall are dropped,
 *       as a lost link loses them) and new connections are closed as soon as they are accepted, as
 *       when the server is down; {@link #restore()} accepts connections again.
 * </ul>
 *
 * <p>Each connection is forwarded by two virtual threads; at most {@link #MAX_CONNECTIONS} are open
 * at once, further ones are closed on arrival. JDK only.
 */
public final class TcpProxy implements AutoCloseable {
  /** Connections open at once; a test needs a handful. */
  public static final int MAX_CONNECTIONS = 256;

  private static final int BUFFER_BYTES = 64 * 1024;
  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

  private final InetSocketAddress upstream;
  private final ServerSocket server;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition flowing = lock.newCondition();
  private final List<Link> links = new ArrayList<>();
  private boolean stalled;
  private boolean refusing;
  private boolean closed;
  private long accepted;

  private TcpProxy(InetSocketAddress upstream, ServerSocket server) {
    this.upstream = upstream;
    this.server = server;
  }

  /** Starts a proxy on an ephemeral loopback port that forwards to {@code host:port}. */
  public static TcpProxy start(String host, int port) {
    Objects.requireNonNull(host, "host");
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
    }
    try {
      ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      TcpProxy proxy = new TcpProxy(new InetSocketAddress(host, port), server);
      Thread.ofVirtual().name("tcp-proxy-accept-" + server.getLocalPort()).start(proxy::accept);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a loopback port for the proxy", e);
    }
  }

  /** The loopback port clients connect to. */
  public int port() {
    return server.getLocalPort();
  }

  /** The loopback host clients connect to. */
  public String host() {
    return server.getInetAddress().getHostAddress();
  }

  /** Connections accepted and forwarded since the proxy started (refused ones not counted). */
  public long connectionsAccepted() {
    lock.lock();
    try {
      return accepted;
    } finally {
      lock.unlock();
    }
  }

  /** Holds every byte in both directions until {@link #resume()}; connections stay open. */
  public void stall() {
    lock.lock();
    try {
      stalled = true;
    } finally {
      lock.unlock();
    }
  }

  /** Lets bytes flow again, the held ones first. */
  public void resume() {
    lock.lock();
    try {
      stalled = false;
      flowing.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes every open connection (held bytes are lost) and closes new ones on arrival until {@link
   * #restore()}. A stall is lifted: {@link #restore()} starts from a flowing link.
   */
  public void cut() {
    List<Link> open;
    lock.lock();
    try {
      refusing = true;
      stalled = false;
      open = List.copyOf(links);
      links.clear();
      // Marked under the lock, before waking the stalled pumps, so that none of them forwards a
      // held
      // byte after the cut.
      open.forEach(link -> link.cut = true);
      flowing.signalAll();
    } finally {
      lock.unlock();
    }
    open.forEach(Link::close);
  }

  /** Accepts and forwards connections again after {@link #cut()}. */
  public void restore() {
    lock.lock();
    try {
      refusing = false;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      lock.unlock();
    }
    cut();
    try {
      server.close();
    } catch (IOException e) {
      // Closing a listening socket only fails if it is already closed.
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      Link link = open(client);
      if (link != null) {
        Thread.ofVirtual().start(() -> pump(link, link.client, link.server));
        Thread.ofVirtual().start(() -> pump(link, link.server, link.client));
      }
    }
  }

  /** Connects the client upstream, or closes it when the proxy refuses or upstream is down. */
  private Link open(Socket client) {
    lock.lock();
    try {
      if (refusing || closed || links.size() >= MAX_CONNECTIONS) {
        closeQuietly(client);
        return null;
      }
    } finally {
      lock.unlock();
    }
    Socket upstreamSocket = new Socket();
    try {
      upstreamSocket.setTcpNoDelay(true);
      client.setTcpNoDelay(true);
      upstreamSocket.connect(upstream, CONNECT_TIMEOUT_MILLIS);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(upstreamSocket);
      return null;
    }
    Link link = new Link(client, upstreamSocket);
    lock.lock();
    try {
      if (refusing || closed) {
        link.close();
        return null;
      }
      links.add(link);
      accepted++;
      return link;
    } finally {
      lock.unlock();
    }
  }

  private void pump(Link link, Socket from, Socket to) {
    byte[] buffer = new byte[BUFFER_BYTES];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      while (true) {
        int read = in.read(buffer);
        if (read < 0) {
          break;
        }
        if (!awaitFlowing(link)) {
          break;
        }
        out.write(buffer, 0, read);
        out.flush();
      }
    } catch (SocketException e) {
      // The link was cut or the peer went away.
    } catch (IOException e) {
      // Same: a forwarding error ends the connection, as it would on a real network.
    }
    lock.lock();
    try {
      links.remove(link);
    } finally {
      lock.unlock();
    }
    link.close();
  }

  /** Waits while stalled; false when the link was cut meanwhile. */
  private boolean awaitFlowing(Link link) {
    lock.lock();
    try {
      while (stalled && !link.isClosed()) {
        flowing.awaitUninterruptibly();
      }
      return !link.isClosed();
    } finally {
      lock.unlock();
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Nothing to do: the socket is gone either way.
    }
  }

  private static final class Link {
    final Socket client;
    final Socket server;

    /** Set under the proxy's lock when the link is cut. */
    volatile boolean cut;

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void close() {
      closeQuietly(client);
      closeQuietly(server);
    }

    boolean isClosed() {
      return cut || client.isClosed() || server.isClosed();
    }
  }
}
