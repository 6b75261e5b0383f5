<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * A minimal RESP2 client over stream_socket_client, for looking at the keys
 * the extension writes (phpredis is not required).
 */
final class Resp
{
    /** @var resource */
    private $sock;

    public function __construct(string $host, int $port, ?string $password = null, float $timeoutS = 2.0)
    {
        $sock = @stream_socket_client("tcp://$host:$port", $errno, $errstr, $timeoutS);
        if ($sock === false) {
            throw new \RuntimeException("cannot connect to redis at $host:$port: $errstr");
        }
        stream_set_timeout($sock, (int) ceil($timeoutS));
        $this->sock = $sock;
        if ($password !== null) {
            $this->command('AUTH', $password);
        }
    }

    /** Connects to a redis://[user:password@]host:port[/db] URL. */
    public static function fromUrl(string $url): self
    {
        $p = parse_url($url);
        if ($p === false || !isset($p['host'])) {
            throw new \RuntimeException("cannot parse redis URL $url");
        }
        $client = new self($p['host'], $p['port'] ?? 6379, isset($p['pass']) ? rawurldecode($p['pass']) : null);
        $db = isset($p['path']) ? trim($p['path'], '/') : '';
        if ($db !== '' && $db !== '0') {
            $client->command('SELECT', $db);
        }
        return $client;
    }

    public function __destruct()
    {
        if (is_resource($this->sock)) {
            fclose($this->sock);
        }
    }

    /**
     * Sends one command and returns its reply: string, int, null, or list.
     * An error reply throws.
     */
    public function command(string|int ...$args): mixed
    {
        $out = '*' . count($args) . "\r\n";
        foreach ($args as $a) {
            $a = (string) $a;
            $out .= '$' . strlen($a) . "\r\n" . $a . "\r\n";
        }
        for ($done = 0; $done < strlen($out);) {
            $n = fwrite($this->sock, substr($out, $done));
            if ($n === false || $n === 0) {
                throw new \RuntimeException('redis write failed');
            }
            $done += $n;
        }
        return $this->read();
    }

    /** @return array<string, string> HGETALL as an associative array */
    public function hgetall(string $key): array
    {
        $flat = $this->command('HGETALL', $key);
        $out = [];
        for ($i = 0; $i + 1 < count($flat); $i += 2) {
            $out[$flat[$i]] = $flat[$i + 1];
        }
        return $out;
    }

    /** @return list<string> every key matching $pattern (SCAN, not KEYS) */
    public function keys(string $pattern): array
    {
        $cursor = '0';
        $keys = [];
        do {
            [$cursor, $batch] = $this->command('SCAN', $cursor, 'MATCH', $pattern, 'COUNT', 1000);
            array_push($keys, ...$batch);
        } while ($cursor !== '0');
        sort($keys);
        return array_values(array_unique($keys));
    }

    /** @return array<string, int> calls per command from INFO commandstats */
    public function commandCalls(): array
    {
        $info = (string) $this->command('INFO', 'commandstats');
        $calls = [];
        foreach (explode("\n", $info) as $line) {
            if (preg_match('/^cmdstat_([^:]+):calls=(\d+)/', trim($line), $m)) {
                $calls[$m[1]] = (int) $m[2];
            }
        }
        return $calls;
    }

    private function line(): string
    {
        $line = fgets($this->sock);
        if ($line === false) {
            throw new \RuntimeException('redis read failed');
        }
        return substr($line, 0, -2);
    }

    private function read(): mixed
    {
        $line = $this->line();
        $rest = substr($line, 1);
        switch ($line[0]) {
            case '+':
                return $rest;
            case '-':
                throw new \RuntimeException("redis error: $rest");
            case ':':
                return (int) $rest;
            case '$':
                $len = (int) $rest;
                if ($len < 0) {
                    return null;
                }
                $data = '';
                while (strlen($data) < $len + 2) {
                    $chunk = fread($this->sock, $len + 2 - strlen($data));
                    if ($chunk === false || $chunk === '') {
                        throw new \RuntimeException('redis read failed');
                    }
                    $data .= $chunk;
                }
                return substr($data, 0, $len);
            case '*':
                $n = (int) $rest;
                if ($n < 0) {
                    return null;
                }
                $items = [];
                for ($i = 0; $i < $n; $i++) {
                    $items[] = $this->read();
                }
                return $items;
        }
        throw new \RuntimeException("unexpected redis reply: $line");
    }
}
