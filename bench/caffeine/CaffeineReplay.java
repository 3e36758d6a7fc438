import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Replays a request stream through a Caffeine cache, the "caffeine" policy of
 * viewcache-sim, which writes the input and reads the output.
 *
 * <p>Usage: {@code java -cp CLASSES:caffeine.jar CaffeineReplay REQUESTS RESULTS CAPACITY...}
 * where each CAPACITY is {@code entries:N} (maximumSize) or {@code bytes:N}
 * (maximumWeight, each entry weighing its size).
 *
 * <p>REQUESTS holds, big-endian: the request count (long), a flag word (int, bit 0: sizes
 * follow), then per request its key (long) and, with the flag, its size (int). RESULTS gets one
 * line per capacity: {@code hits hit_bytes}.
 *
 * <p>Each request is {@code getIfPresent}, and {@code put} on a miss (or on a hit whose size
 * changed). Maintenance runs on the calling thread ({@code executor(Runnable::run)}), so
 * evictions happen at the same requests as in a single-threaded cache. Runs are still not
 * repeatable: Caffeine 2.6.2 seeds its frequency sketch and its admission tie-breaks from
 * {@code ThreadLocalRandom}. The hit ratio varies between runs by about 0.1 percentage points on
 * OLTP at 1,000 entries, and by several points on small traces such as LIRS gli.
 */
public final class CaffeineReplay {
  private CaffeineReplay() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 3) {
      System.err.println("usage: CaffeineReplay REQUESTS RESULTS entries:N|bytes:N...");
      System.exit(2);
    }

    long[] keys;
    int[] sizes;
    try (DataInputStream in = new DataInputStream(
        new BufferedInputStream(new FileInputStream(args[0]), 1 << 20))) {
      long count = in.readLong();
      if (count < 0 || count > Integer.MAX_VALUE - 8) {
        throw new IOException("request count " + count + " is out of range in " + args[0]);
      }
      boolean hasSizes = (in.readInt() & 1) != 0;
      keys = new long[(int) count];
      sizes = hasSizes ? new int[(int) count] : null;
      for (int i = 0; i < keys.length; i++) {
        keys[i] = in.readLong();
        if (hasSizes) {
          sizes[i] = in.readInt();
        }
      }
    }

    try (PrintWriter out = new PrintWriter(args[1], "UTF-8")) {
      for (int i = 2; i < args.length; i++) {
        long[] counts = replay(keys, sizes, args[i]);
        out.println(counts[0] + " " + counts[1]);
      }
    }
  }

  /** Returns the hits and the bytes of the hits at one capacity. */
  private static long[] replay(long[] keys, int[] sizes, String capacity) {
    int colon = capacity.indexOf(':');
    String unit = colon < 0 ? "" : capacity.substring(0, colon);
    long value = Long.parseLong(capacity.substring(colon + 1));

    Caffeine<Object, Object> builder = Caffeine.newBuilder().executor(Runnable::run);
    Cache<Long, Integer> cache;
    if (unit.equals("entries")) {
      cache = builder.maximumSize(value).build();
    } else if (unit.equals("bytes")) {
      if (sizes == null) {
        throw new IllegalArgumentException("a byte capacity needs a request stream with sizes");
      }
      cache = builder.maximumWeight(value)
          .weigher((Long key, Integer size) -> size)
          .build();
    } else {
      throw new IllegalArgumentException("capacity " + capacity + " is not entries:N or bytes:N");
    }

    long hits = 0;
    long hitBytes = 0;
    for (int i = 0; i < keys.length; i++) {
      Long key = keys[i];
      int size = sizes == null ? 1 : sizes[i];
      Integer stored = cache.getIfPresent(key);
      if (stored != null) {
        hits++;
        hitBytes += size;
        // A key that comes back with another size (a page that changed)
        // takes the new weight, as in viewcache-sim's own policies.
        if (stored != size) {
          cache.put(key, size);
        }
      } else {
        cache.put(key, size);
      }
    }
    cache.cleanUp();
    return new long[] {hits, hitBytes};
  }
}
