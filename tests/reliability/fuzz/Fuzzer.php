<?php

declare(strict_types=1);

namespace Monei\Concurrency\Fuzz;

require_once __DIR__ . '/invoke_strict.php';
require_once __DIR__ . '/invoke_weak.php';

/** Thrown by the fuzzer's callables and __toString methods: "the callable's own exception". */
final class CallbackException extends \Exception
{
}

final class CallbackError extends \Error
{
}

/** Thrown by a logger given to setLogger(): documented to be dropped, so it must never come out. */
final class LoggerException extends \Exception
{
}

final class Stringy
{
    public function __construct(private string $s, private bool $throw = false)
    {
    }

    public function __toString(): string
    {
        if ($this->throw) {
            throw new CallbackException('__toString throws');
        }
        return $this->s;
    }
}

final class Helper
{
    public static mixed $value = null;

    public static function staticReturn(mixed ...$args): mixed
    {
        return self::$value;
    }

    public function instanceThrow(mixed ...$args): never
    {
        throw new CallbackException('instance method callable throws');
    }

    public function __invoke(mixed ...$args): mixed
    {
        return self::$value;
    }
}

/**
 * One batch of random calls; deterministic for (seed, batch) except for the
 * timing of Redis.
 */
final class Fuzzer
{
    private const EXT = 'monei_concurrency';
    private const NS = 'Monei\\Concurrency\\';
    private const KNOWN_OPTIONS = ['redis_url', 'key_prefix', 'lock_ttl_ms', 'lock_wait_ms', 'max_hold_ms',
        'connect_timeout_ms', 'io_timeout_ms', 'slow_hold_ms', 'retention_s', 'in_progress_ttl_ms', 'transitions'];
    private const STATUSES = ['PENDING', 'AUTHORIZED', 'SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED',
        'CANCELED', 'EXPIRED'];

    /** @var list<string> option names (the extension's own list, read from its error message) */
    private array $optionNames = self::KNOWN_OPTIONS;
    /** @var list<array{kind: string, class: string, name: string, params: list<\ReflectionParameter>, id: string}> */
    private array $targets = [];
    /** @var array<string, list<object>> instances per class */
    private array $instances = [];
    /** @var list<object> leases kept alive between calls */
    private array $leases = [];
    private array $outcomes = [];
    private array $targetCalls = [];
    private array $violations = [];
    private array $warnings = [];
    private array $notes = [];
    private int $calls = 0;
    private int $exitChildren = 0;
    /** One huge (1 MB string / long array) value per call at most. */
    private bool $hugeUsed = false;
    /** Whether the current call's arguments contain a callable made by us. */
    private bool $gaveCallable = false;
    private string $prefix;
    /** @var list<string> */
    private array $safeUrls;

    public function __construct(private string $redisUrl, private int $seed, private int $batch)
    {
        mt_srand($seed * 1000003 + $batch);
        $this->prefix = "fz$batch:";
        $p = parse_url($redisUrl);
        $host = $p['host'] ?? '127.0.0.1';
        $port = $p['port'] ?? 6379;
        $db = trim($p['path'] ?? '', '/');
        // Only the throwaway server or addresses on this machine that refuse.
        $this->safeUrls = [$redisUrl, $redisUrl, $redisUrl, "redis://$host:$port/$db", "redis://:wrong@$host:$port/$db",
            "redis://nobody:wrong@$host:$port", 'redis://127.0.0.1:1', 'redis://127.0.0.1:1/3', "rediss://$host:$port",
            'unix:///nonexistent/monei-fuzz.sock', 'redis+unix:///nonexistent/x.sock?db=1', 'redis://127.0.0.1:99999',
            'redis://127.0.0.1:' . $port . '/99999', 'redis://', 'redis:///', 'notaurl', '', 'http://127.0.0.1:1/',
            "redis://127.0.0.1:$port/-1", "redis://127.0.0.1:$port/\x00", "redis://%zz@127.0.0.1:$port"];
        $this->discover();
        set_error_handler(function (int $no, string $msg): bool {
            $key = $no . ': ' . preg_replace('/\d+/', 'N', substr($msg, 0, 90));
            $this->warnings[$key] = ($this->warnings[$key] ?? 0) + 1;
            return true;
        });
    }

    private function discover(): void
    {
        // The option names: "unknown option ...; known options: a, b, c" lists them all.
        foreach (['ProcessingLock', 'IdempotencyStore', 'PaymentStateMachine'] as $short) {
            try {
                new (self::NS . $short)(['fuzz_probe_unknown' => 1]);
            } catch (\Throwable $e) {
                if (preg_match('/known options: ([a-z0-9_, ]+)/', $e->getMessage(), $m)) {
                    $this->optionNames = array_values(array_unique(array_merge($this->optionNames,
                        array_map('trim', explode(',', $m[1])))));
                }
            }
        }
        $ext = new \ReflectionExtension(self::EXT);
        foreach ($ext->getFunctions() as $f) {
            $this->targets[] = ['kind' => 'function', 'class' => '', 'name' => $f->getName(),
                'params' => $f->getParameters(), 'id' => $f->getName() . '()'];
        }
        foreach ($ext->getClasses() as $c) {
            foreach ($c->getMethods(\ReflectionMethod::IS_PUBLIC) as $m) {
                $kind = $m->isConstructor() ? 'new' : ($m->isStatic() ? 'static' : 'method');
                $this->targets[] = ['kind' => $kind, 'class' => $c->getName(), 'name' => $m->getName(),
                    'params' => $m->getParameters(), 'id' => $c->getShortName() . '::' . $m->getName()];
                if ($m->isConstructor() && !in_array($c->getShortName(), ['WebhookSignature'], true)) {
                    // Calling __construct() again on a live object is a public method call too.
                    $this->targets[] = ['kind' => 'method', 'class' => $c->getName(), 'name' => '__construct',
                        'params' => $m->getParameters(), 'id' => $c->getShortName() . '->__construct (again)'];
                }
            }
        }
    }

    // ---- random values -----------------------------------------------------

    private function chance(int $percent): bool
    {
        return mt_rand(1, 100) <= $percent;
    }

    private function pick(array $a): mixed
    {
        return $a[array_rand($a)];
    }

    private function randBytes(int $n): string
    {
        $s = '';
        for ($i = 0; $i < $n; $i++) {
            $s .= chr(mt_rand(0, 255));
        }
        return $s;
    }

    private function randInt(): int
    {
        return match (mt_rand(0, 11)) {
            0 => 0,
            1 => -1,
            2 => PHP_INT_MAX,
            3 => PHP_INT_MIN,
            4 => mt_rand(1, 100),
            5 => mt_rand(1, 5000),
            6 => 86400000,
            7 => 86400001,
            8 => -mt_rand(1, PHP_INT_MAX),
            9 => mt_rand(0, PHP_INT_MAX),
            10 => 2 ** 31,
            default => mt_rand(-3, 3),
        };
    }

    private function randFloat(): float
    {
        return $this->pick([0.0, -0.0, 1.5, -1.5, NAN, INF, -INF, 1e300, -1e300, 9.2233720368547758E+18,
            mt_rand() / 7, 86400000.0, 0.1]);
    }

    private function randString(): string
    {
        if (!$this->hugeUsed && $this->chance(1)) {
            $this->hugeUsed = true;
            return $this->chance(50) ? str_repeat('A', 1 << 20) : $this->randBytes(1 << 20);
        }
        return match (mt_rand(0, 19)) {
            0 => '',
            1 => 'a',
            2 => "a\0b",
            3 => "\0",
            4 => "\xff\xfe\xfd",
            5 => "\xc3\x28",
            6 => $this->randBytes(mt_rand(1, 40)),
            7 => str_repeat('x', 255),
            8 => str_repeat('x', 256),
            9 => str_repeat('y', mt_rand(1, 5000)),
            10 => (string) $this->randInt(),
            11 => '1.5e3',
            12 => ' 42 ',
            13 => $this->pick(self::STATUSES),
            14 => $this->signatureHeader(),
            15 => $this->pick(['order:*', 'payment:*', '*', '[', '\\', '*a*a*a*a*a*a*a*a*b', '?']),
            16 => $this->pick(['1', '2', 'o1', 'p1', 'pay_1', '100000001', 'k', 'key:1', '{x}', '%', ':']),
            17 => $this->pick(['redis_url', 'key_prefix', 'lock_ttl_ms', 'transitions']),
            18 => "\u{1F4B3}\u{20AC}" . $this->randBytes(3),
            default => bin2hex($this->randBytes(mt_rand(1, 16))),
        };
    }

    private function signatureHeader(): string
    {
        $t = $this->pick([time(), 0, -1, time() - 1000, PHP_INT_MAX]);
        $sig = $this->chance(50) ? hash_hmac('sha256', "$t." . $this->pick(['', 'a', '{}']), $this->pick(['k', 'a', 'sk_test']))
            : bin2hex($this->randBytes(mt_rand(0, 40)));
        return $this->pick([
            "t=$t,v1=$sig",
            "t=$t,v1=$sig,v1=$sig,v0=x",
            "v1=$sig,t=$t",
            "t=$t",
            "t=$t,v1=" . strtoupper($sig),
            "t=0$t,v1=$sig" . str_repeat(",v1=$sig", mt_rand(0, 10)),
            " t = $t , v1 = $sig ",
            "t=$t,,v1=$sig",
            "t=$t\0,v1=$sig",
            str_repeat("t=$t,", 3000),
        ]);
    }

    private function randArray(int $depth): array
    {
        if (!$this->hugeUsed && $this->chance(1)) {
            $this->hugeUsed = true;
            return range(1, mt_rand(1000, 2000));
        }
        $a = [];
        $n = $this->pick([0, 1, 2, 3, mt_rand(0, 8)]);
        for ($i = 0; $i < $n; $i++) {
            $v = $this->randValue($depth + 1);
            match (mt_rand(0, 3)) {
                0 => $a[$a === [] ? 0 : (max(array_filter(array_keys($a), 'is_int') ?: [-1]) < PHP_INT_MAX ? count($a) + 1000 : 0)] = $v,
                1 => $a[$this->randString()] = $v,
                2 => $a[$this->randInt()] = $v,
                default => $a[$this->pick($this->optionNames)] = $v,
            };
        }
        return $a;
    }

    /** Something that looks like an options array, usually almost valid. */
    private function randOptions(): array
    {
        $o = [];
        $n = mt_rand(0, 4);
        for ($i = 0; $i < $n; $i++) {
            $k = $this->chance(85) ? $this->pick($this->optionNames) : $this->randValueKey();
            $o[$k] = match ($k) {
                'redis_url' => $this->pick($this->safeUrls),
                'key_prefix' => $this->chance(70) ? $this->prefix . $this->pick(['', 'a:', 'b:']) : $this->randString(),
                'transitions' => $this->chance(50) ? $this->randTransitions() : $this->randValue(1),
                default => $this->chance(60) ? $this->pick([1, 10, 100, 1000, 5000, 0, -1, 86400000, 86400001])
                    : $this->randValue(1),
            };
        }
        return $o;
    }

    private function randValueKey(): int|string
    {
        return $this->chance(50) ? $this->randInt() : $this->randString();
    }

    private function randTransitions(): array
    {
        $t = [];
        $n = mt_rand(0, 6);
        for ($i = 0; $i < $n; $i++) {
            $from = $this->chance(80) ? $this->pick(self::STATUSES) : $this->randString();
            $to = [];
            for ($j = mt_rand(0, 3); $j > 0; $j--) {
                $to[] = $this->chance(85) ? $this->pick(self::STATUSES) : $this->randValue(2);
            }
            $t[$from] = $this->chance(90) ? $to : $this->randValue(2);
        }
        return $t;
    }

    private function randObject(): object
    {
        return match (mt_rand(0, 9)) {
            0 => new \stdClass(),
            1 => new \ArrayObject([1, 2]),
            2 => new Stringy($this->randString()),
            3 => new Stringy('x', true),
            4 => $this->leases !== [] ? $this->pick($this->leases) : new \stdClass(),
            5 => $this->instance($this->pick(array_keys($this->instances) ?: ['stdClass'])),
            6 => new \DateTimeImmutable('@0'),
            7 => new \RuntimeException('an exception object'),
            8 => (function () {
                yield 1;
            })(),
            default => new Helper(),
        };
    }

    private function randValue(int $depth = 0): mixed
    {
        $r = mt_rand(0, $depth > 2 ? 8 : 11);
        return match ($r) {
            0 => null,
            1 => true,
            2 => false,
            3, 4 => $this->randInt(),
            5 => $this->randFloat(),
            6, 7 => $this->randString(),
            8 => $this->randObject(),
            9 => $this->randArray($depth),
            10 => $this->randCallable(),
            default => $this->chance(50) ? fopen('php://memory', 'r') : $this->randOptions(),
        };
    }

    /** A value for the return of a callback (what once() stores). */
    private function randResult(): mixed
    {
        return match (mt_rand(0, 5)) {
            0 => fn () => 1,                            // not serializable
            1 => fopen('php://memory', 'r'),            // serializes as 0
            2 => new \SplObjectStorage(),
            3 => (function () {
                yield 1;
            })(),                                       // not serializable
            default => $this->randValue(1),
        };
    }

    /**
     * A callable (usually) that returns, throws, re-enters the extension or
     * is not callable at all. exit() is only used in a forked child (see call()).
     */
    private function randCallable(): mixed
    {
        $this->gaveCallable = true;
        $result = $this->randResult();
        $pl = $this->instance('Monei\Concurrency\ProcessingLock');
        $is = $this->instance('Monei\Concurrency\IdempotencyStore');
        return match (mt_rand(0, 17)) {
            0, 1 => fn (mixed ...$a) => $result,
            2 => function (mixed ...$a): never {
                throw new CallbackException('callable throws');
            },
            3 => function (mixed ...$a): never {
                throw new CallbackError('callable throws an Error');
            },
            4 => 'strlen',
            5 => 'is_object',
            6 => 'gettype',
            7 => [Helper::class, 'staticReturn'],
            8 => [new Helper(), 'instanceThrow'],
            9 => new Helper(),
            10 => strlen(...),
            // Re-entering the extension from inside the callback.
            11 => fn (mixed $lease = null) => $pl->executeWithLock('1', '1', fn () => $result, 0, 1000),
            12 => function (mixed $lease = null) use ($result) {
                if ($lease instanceof \Monei\Concurrency\Lease) {
                    $lease->release();
                    $lease->release();
                    $lease->isHeld();
                }
                return $result;
            },
            13 => function (mixed $lease = null) use ($result) {
                if ($lease instanceof \Monei\Concurrency\Lease) {
                    $this->leases[] = $lease;           // outlives its callback
                    $lease->extend(mt_rand(1, 2000));
                }
                return $result;
            },
            14 => fn (mixed ...$a) => $is->once('k' . mt_rand(1, 3), fn () => $result, '', 0),
            15 => fn (mixed ...$a) => \Monei\Concurrency\setLogger($this->randLogger()),
            16 => $this->pick(['no_such_function_xyz', [1, 2], 'Helper::nope', '', [new \stdClass(), 'x'], 42, null]),
            default => $this->randValue(3),
        };
    }

    private function randLogger(): mixed
    {
        return match (mt_rand(0, 5)) {
            0 => null,
            1 => fn (string $level, string $message, array $context) => null,
            2 => function (mixed ...$a): never {
                throw new LoggerException('logger throws');
            },
            3 => fn (mixed ...$a) => \Monei\Concurrency\setLogger(null),
            4 => fn (mixed ...$a) => $this->instance('Monei\Concurrency\ProcessingLock')->tryAcquire('1', 'log', 100),
            default => 'gettype',
        };
    }

    /** A value for a declared parameter type: usually right, sometimes anything. */
    private function argFor(\ReflectionParameter $p): mixed
    {
        if ($this->chance(25)) {
            return $this->randValue();
        }
        $type = $p->getType();
        $names = [];
        if ($type instanceof \ReflectionNamedType) {
            $names[] = $type->getName();
            if ($type->allowsNull()) {
                $names[] = 'null';
            }
        } elseif ($type instanceof \ReflectionUnionType) {
            foreach ($type->getTypes() as $t) {
                $names[] = $t->getName();
            }
        }
        $name = $names === [] ? 'mixed' : $this->pick($names);
        $param = strtolower($p->getName());
        return match ($name) {
            'null' => null,
            'int' => str_ends_with($param, 'ms') || str_ends_with($param, 's') || $param === 'limit'
                ? $this->pick([0, 1, 10, 100, 1000, 3000, $this->randInt(), $this->randInt()]) : $this->randInt(),
            'string' => match (true) {
                str_ends_with($param, 'id') || $param === 'key' => $this->chance(60)
                    ? $this->pick(['1', '2', 'o1', 'p1', 'pay_1', '100000001']) : $this->randString(),
                $param === 'status' => $this->chance(70) ? $this->pick(self::STATUSES) : $this->randString(),
                $param === 'header' => $this->chance(70) ? $this->signatureHeader() : $this->randString(),
                default => $this->randString(),
            },
            'array' => $param === 'options' && $this->chance(70) ? $this->randOptions()
                : ($param === 'secrets' ? $this->randSecrets() : $this->randArray(0)),
            'callable' => $param === 'logger' ? $this->randLogger() : $this->randCallable(),
            'bool' => $this->chance(50),
            'float' => $this->randFloat(),
            default => $this->randValue(),
        };
    }

    private function randSecrets(): array
    {
        $a = [];
        for ($i = mt_rand(0, 4); $i > 0; $i--) {
            $a[] = $this->chance(80) ? $this->pick(['k', 'a', 'sk_test', str_repeat('s', 1000)]) : $this->randValue(1);
        }
        return $a;
    }

    // ---- instances -----------------------------------------------------------

    private function instance(string $class): ?object
    {
        if (!isset($this->instances[$class]) || $this->instances[$class] === []) {
            return null;
        }
        return $this->pick($this->instances[$class]);
    }

    private function makeInstances(): void
    {
        $opts = ['key_prefix' => $this->prefix];
        foreach (['ProcessingLock', 'OrderLockManager', 'IdempotencyStore', 'PaymentStateMachine'] as $short) {
            $class = self::NS . $short;
            $this->instances[$class] = [new $class($opts), new $class($opts + ['lock_wait_ms' => 0])];
        }
        foreach ((new \ReflectionExtension(self::EXT))->getClasses() as $c) {
            if ($c->isSubclassOf(\Throwable::class)) {
                $this->instances[$c->getName()] = [$c->newInstance('fuzz', 7)];
            }
        }
        $this->refreshLeases();
    }

    private function refreshLeases(): void
    {
        $pl = $this->instances[self::NS . 'ProcessingLock'][0];
        while (count($this->leases) < 4) {
            try {
                // Re-entering a pooled lease that already expired throws LockLostException (documented).
                $lease = $pl->tryAcquire('o' . mt_rand(1, 3), 'p' . mt_rand(1, 3), $this->pick([null, 1, 50, 30000]));
            } catch (\Monei\Concurrency\ConcurrencyException) {
                $lease = null;
            }
            if ($lease === null) {
                break;
            }
            $this->leases[] = $lease;
        }
        $this->instances[self::NS . 'Lease'] = $this->leases;
    }

    // ---- calls -----------------------------------------------------------

    private function argsFor(array $t): array
    {
        $params = $t['params'];
        $required = count(array_filter($params, fn ($p) => !$p->isOptional()));
        $r = mt_rand(1, 100);
        $n = $r <= 85 ? mt_rand($required, count($params)) : ($r <= 93 ? mt_rand(0, max(0, $required - 1)) : count($params) + mt_rand(1, 3));
        $args = [];
        for ($i = 0; $i < $n; $i++) {
            $args[] = isset($params[$i]) ? $this->argFor($params[$i]) : $this->randValue();
        }
        return $args;
    }

    /**
     * Keeps every generated Redis address on this machine and bounds the
     * timeouts a call may legitimately wait for (replica acks, io), wherever
     * the option arrays sit in the arguments.
     */
    private function sanitize(mixed $v, int $depth = 0): mixed
    {
        if (!is_array($v) || $depth > 4) {
            return $v;
        }
        foreach ($v as $k => $x) {
            if ($k === 'redis_url') {
                $v[$k] = is_string($x) && !in_array($x, $this->safeUrls, true) ? $this->pick($this->safeUrls) : $x;
            } elseif (is_string($k) && str_contains($k, 'timeout') && is_numeric($x) && $x > 2000) {
                $v[$k] = 2000;
            } elseif (is_string($k) && str_starts_with($k, 'tls_') && is_string($x)) {
                $v[$k] = $this->pick(['', '/nonexistent/monei-fuzz.pem', '/dev/null', "\0"]);
            } elseif (is_array($x)) {
                $v[$k] = $this->sanitize($x, $depth + 1);
            }
        }
        return $v;
    }

    public function run(int $calls): void
    {
        $this->makeInstances();
        for ($i = 0; $i < $calls; $i++) {
            $t = $this->targets[mt_rand(0, count($this->targets) - 1)];
            $this->hugeUsed = false;
            $this->gaveCallable = false;
            $args = array_map(fn ($a) => $this->sanitize($a), $this->argsFor($t));
            $takesCallable = (bool) array_filter($t['params'], fn ($p) => (string) $p->getType() === 'callable'
                || (string) $p->getType() === '?callable');
            if ($takesCallable && $this->chance(1)) {
                $this->callWithExit($t);
                continue;
            }
            $this->call($t, $args);
            if ($i % 97 === 0) {
                if ($this->chance(30)) {
                    foreach ($this->leases as $l) {
                        try {
                            $l->release();
                        } catch (\Throwable) {
                        }
                    }
                    $this->leases = [];
                }
                $this->refreshLeases();
                \Monei\Concurrency\setLogger(null);
            }
        }
        $this->leases = [];
        $this->instances = [];
        $this->selfCheck();
    }

    private function call(array $t, array $args): void
    {
        $this->calls++;
        $this->targetCalls[$t['id']] = ($this->targetCalls[$t['id']] ?? 0) + 1;
        $obj = null;
        if ($t['kind'] === 'method') {
            if ($t['name'] === '__construct') {
                // Re-construct a throwaway object, never the shared ones.
                try {
                    $obj = match (true) {
                        $t['class'] === self::NS . 'Lease' => $this->leases !== [] ? $this->pick($this->leases) : null,
                        is_subclass_of($t['class'], \Throwable::class) => new ($t['class'])('x'),
                        default => new ($t['class'])(['key_prefix' => $this->prefix . 'rc:']),
                    };
                } catch (\Throwable) {
                    $obj = null;
                }
            } else {
                $obj = $this->instance($t['class']);
            }
            if ($obj === null) {
                $this->outcome('(no instance: ' . $t['id'] . ')');
                return;
            }
        }
        try {
            $ret = $this->chance(50)
                ? invoke_strict($t['kind'], $t['class'], $t['name'], $obj, $args)
                : invoke_weak($t['kind'], $t['class'], $t['name'], $obj, $args);
            $this->outcome('returned');
            if ($ret instanceof \Monei\Concurrency\Lease && count($this->leases) < 16) {
                $this->leases[] = $ret;
            } elseif (is_object($ret) && $t['kind'] === 'new' && $this->chance(20)) {
                $this->instances[$t['class']][] = $ret;
                if (count($this->instances[$t['class']]) > 6) {
                    array_splice($this->instances[$t['class']], 2, 1);
                }
            }
        } catch (\Throwable $e) {
            $this->classify($t, $e, $args);
        }
    }

    private function classify(array $t, \Throwable $e, array $args): void
    {
        $class = get_class($e);
        $this->outcome($class);
        if ($e instanceof LoggerException) {
            $this->violation($t, $e, $args, 'a logger exception reached the caller (documented as dropped)');
            return;
        }
        if ($e instanceof CallbackException || $e instanceof CallbackError) {
            if (!$this->gaveCallable && !$this->hasStringy($args)) {
                $this->violation($t, $e, $args, 'a callable exception came out of a call that was given no callable');
            }
            return;
        }
        if ($e instanceof \TypeError || $e instanceof \ValueError) {     // ArgumentCountError is a TypeError
            return;
        }
        if (str_starts_with($class, self::NS) && in_array($class, array_map(fn ($c) => $c->getName(),
            (new \ReflectionExtension(self::EXT))->getClasses()), true)) {
            return;
        }
        // new Lease() / new WebhookSignature(), or __construct() called on a lease.
        $ours = [self::NS . 'Lease', self::NS . 'WebhookSignature'];
        if ($class === 'Error' && str_starts_with($e->getMessage(), 'Direct instantiation of ' . self::NS)
            && (($t['kind'] === 'new' && in_array($t['class'], $ours, true))
                || ($t['kind'] === 'method' && $t['name'] === '__construct'))) {
            return;
        }
        $this->violation($t, $e, $args, 'undocumented exception');
    }

    private function problem(string $what): void
    {
        $this->violations[$what] ??= ['n' => 0, 'example' => ''];
        $this->violations[$what]['n']++;
    }

    private function hasStringy(array $args): bool
    {
        $found = false;
        array_walk_recursive($args, function ($v) use (&$found) {
            $found = $found || $v instanceof Stringy;
        });
        return $found;
    }

    private function outcome(string $name): void
    {
        $this->outcomes[$name] = ($this->outcomes[$name] ?? 0) + 1;
    }

    private function describe(mixed $v, int $depth = 0): string
    {
        return match (true) {
            is_string($v) => strlen($v) > 40 ? sprintf('string(%d) "%s..."', strlen($v), addcslashes(substr($v, 0, 20), "\0..\37\177..\377"))
                : '"' . addcslashes($v, "\0..\37\177..\377") . '"',
            is_array($v) => $depth > 1 ? 'array(' . count($v) . ')' : '[' . implode(', ', array_map(
                fn ($k, $x) => (is_int($k) ? $k : '"' . addcslashes(substr($k, 0, 20), "\0..\37\177..\377") . '"') . ' => ' . $this->describe($x, $depth + 1),
                array_keys(array_slice($v, 0, 4, true)), array_slice($v, 0, 4, true))) . (count($v) > 4 ? ', ...' : '') . ']',
            $v instanceof \Closure => 'Closure',
            is_object($v) => get_class($v),
            is_resource($v) => 'resource',
            default => var_export($v, true),
        };
    }

    private function violation(array $t, \Throwable $e, array $args, string $what): void
    {
        // Grouped by what came out of which entry point; the first arguments kept as the example.
        $key = sprintf('%s: %s threw %s: %s', $what, $t['id'], get_class($e), substr($e->getMessage(), 0, 200));
        if (!isset($this->violations[$key])) {
            $this->violations[$key] = ['n' => 0, 'example' => '(' . implode(', ', array_map(fn ($a) => $this->describe($a), $args)) . ')'];
        }
        $this->violations[$key]['n']++;
    }

    /**
     * Runs a call whose callable exits, in a forked child: the child must end
     * with exit()'s status, not a crash or hang, and its request shutdown
     * releases what it held.
     */
    private function callWithExit(array $t): void
    {
        $code = mt_rand(0, 3);
        $pid = pcntl_fork();
        if ($pid === 0) {
            restore_error_handler();
            // Own key prefix: nothing of the parent's is waited on.
            $class = $t['class'];
            $obj = $t['kind'] === 'method' ? new $class(['key_prefix' => $this->prefix . 'x' . getmypid() . ':']) : null;
            $exit = fn (mixed ...$a) => exit($code);
            $args = [];
            foreach ($t['params'] as $p) {
                $ty = (string) $p->getType();
                $args[] = match (true) {
                    str_contains($ty, 'callable') => $exit,
                    str_contains($ty, 'int') => 1000,
                    str_contains($ty, 'array') => ['key_prefix' => $this->prefix . 'x:'],
                    default => 'x' . mt_rand(1, 3),
                };
            }
            if ($t['name'] === 'setLogger') {
                \Monei\Concurrency\setLogger($exit);
                (new \Monei\Concurrency\ProcessingLock(['key_prefix' => $this->prefix . 'x:']))->executeWithLock('1', '1', fn () => 1);
                exit(99);   // the logger was not called
            }
            try {
                invoke_strict($t['kind'], $class, $t['name'], $obj, $args);
            } catch (\Throwable) {
            }
            exit(98);       // the callable was not called
        }
        $this->exitChildren++;
        $this->calls++;
        $this->targetCalls[$t['id']] = ($this->targetCalls[$t['id']] ?? 0) + 1;
        $deadline = microtime(true) + 60;
        while (pcntl_waitpid($pid, $status, WNOHANG) === 0) {
            if (microtime(true) > $deadline) {
                posix_kill($pid, SIGKILL);
                pcntl_waitpid($pid, $status);
                $this->problem("exit() in a callback of {$t['id']}: the child hung for 60 s");
                return;
            }
            usleep(1000);
        }
        if (pcntl_wifsignaled($status)) {
            $this->problem("exit($code) in a callback of {$t['id']}: the child was killed by signal " . pcntl_wtermsig($status));
            $this->outcome('exit(): crashed');
        } elseif (!in_array(pcntl_wexitstatus($status), [$code, 98, 99], true)) {
            $this->problem("exit($code) in a callback of {$t['id']}: the child ended with status " . pcntl_wexitstatus($status));
            $this->outcome('exit(): wrong status');
        } else {
            $this->outcome(pcntl_wexitstatus($status) === $code ? 'exit() in callable (child)' : 'exit(): callable not reached (child)');
        }
    }

    /** After the batch the extension must still work normally. */
    private function selfCheck(): void
    {
        try {
            \Monei\Concurrency\setLogger(null);
            $pl = new \Monei\Concurrency\ProcessingLock(['key_prefix' => $this->prefix . 'check:']);
            $v = $pl->executeWithLock('1', '1', fn (\Monei\Concurrency\Lease $l) => $l->token() > 0 ? 'ok' : 'bad', 1000);
            $is = new \Monei\Concurrency\IdempotencyStore(['key_prefix' => $this->prefix . 'check:']);
            $first = $is->once('k', fn () => 'first');
            $second = $is->once('k', fn () => 'second');
            if ($v !== 'ok' || $first !== 'first' || $second !== 'first' || $pl->isLocked('1', '1')) {
                $this->problem('the extension misbehaves after the batch: ' . json_encode([$v, $first, $second]));
            }
        } catch (\Throwable $e) {
            $this->problem('the extension is unusable after the batch: ' . get_class($e) . ': ' . $e->getMessage());
        }
    }

    public function result(): array
    {
        return ['calls' => $this->calls, 'outcomes' => $this->outcomes, 'targets' => $this->targetCalls,
            'violations' => $this->violations, 'warnings' => $this->warnings, 'notes' => array_keys($this->notes),
            'exit_children' => $this->exitChildren];
    }
}
