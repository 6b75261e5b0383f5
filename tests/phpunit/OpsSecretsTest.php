<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\OpsTestCase;
use Monei\Concurrency\Tests\Support\RedisServer;

use function Monei\Concurrency\locks;
use function Monei\Concurrency\metrics;
use function Monei\Concurrency\setLogger;

/**
 * The password of the Redis URL never shows: not in phpinfo() (text or HTML),
 * php --ri, exception messages, log events or metrics. Each password carries
 * a random marker; no output may contain the marker in any spelling.
 */
final class OpsSecretsTest extends OpsTestCase
{
    private static ?RedisServer $server = null;
    /** The server's password: raw '@' and ':' inside, so the URL carries it percent-encoded. */
    private static string $password;
    private static string $marker;

    public static function setUpBeforeClass(): void
    {
        self::$marker = bin2hex(random_bytes(8));
        self::$password = 'Pw@' . self::$marker . ':x';
        self::$server = new RedisServer(['--requirepass', self::$password]);
        self::$server->start(self::$password);
    }

    public static function tearDownAfterClass(): void
    {
        self::$server = null;
    }

    private static function url(?string $password = null): string
    {
        return self::$server->url($password ?? self::$password);
    }

    /** A wrong password with a marker of its own. */
    private static function wrongPassword(): array
    {
        $m = bin2hex(random_bytes(8));
        return ['Wrong' . $m, $m];
    }

    private static function assertNoSecret(string $text, string $where, string ...$markers): void
    {
        foreach (array_merge([self::$marker], $markers) as $m) {
            self::assertStringNotContainsString($m, $text, "$where shows a password");
        }
    }

    public function testTheRightPasswordWorks(): void
    {
        $pl = new ProcessingLock(['redis_url' => self::url(), 'key_prefix' => $this->prefix]);
        $lease = $pl->acquire('1', 'p');
        self::assertTrue($lease->release());
    }

    public function testExceptionMessages(): void
    {
        [$wrong, $m] = self::wrongPassword();
        $cases = [
            'wrong password' => self::url($wrong),
            'right password, closed port' => 'redis://:' . rawurlencode(self::$password) . '@127.0.0.1:' . RedisServer::freePort(),
            'user and password, closed port' => 'redis://app:' . $wrong . '@127.0.0.1:' . RedisServer::freePort() . '/2',
            'no password given' => 'redis://127.0.0.1:' . self::$server->port,
        ];
        foreach ($cases as $what => $url) {
            $calls = [
                'acquire' => fn () => (new ProcessingLock(['redis_url' => $url]))->acquire('1', 'p'),
                'lock' => fn () => (new OrderLockManager(['redis_url' => $url]))->lock('1'),
                'inspect' => fn () => (new OrderLockManager(['redis_url' => $url]))->inspect('1'),
                'once' => fn () => (new IdempotencyStore(['redis_url' => $url]))->once('k', fn () => 1),
                'locks' => function () use ($url) {
                    ini_set('monei_concurrency.redis_url', $url);
                    try {
                        return locks();
                    } finally {
                        ini_set('monei_concurrency.redis_url', self::redisUrl());
                    }
                },
            ];
            foreach ($calls as $call => $f) {
                try {
                    $f();
                    self::fail("$what, $call: no exception");
                } catch (BackendUnavailableException $e) {
                    self::assertNoSecret($e->getMessage(), "$what, $call: exception message", $m);
                    self::assertNoSecret((string) $e, "$what, $call: exception as string", $m);
                    if ($what !== 'no password given') {
                        self::assertStringContainsString(':***@', $e->getMessage(), "$what, $call: names the server, masked");
                    }
                }
            }
        }
    }

    public function testLogEventsAndMetrics(): void
    {
        $events = [];
        setLogger(function (string $level, string $message, array $context) use (&$events): void {
            $events[] = [$level, $message, $context];
        });
        [$wrong, $m] = self::wrongPassword();
        foreach ([self::url($wrong), 'redis://:' . self::$marker . '@127.0.0.1:' . RedisServer::freePort()] as $url) {
            try {
                (new ProcessingLock(['redis_url' => $url]))->acquire('1', 'p');
                self::fail('no exception');
            } catch (BackendUnavailableException) {
            }
        }
        $pl = new ProcessingLock(['redis_url' => self::url(), 'key_prefix' => $this->prefix, 'slow_hold_ms' => 1]);
        $pl->executeWithLock('1', 'p', fn () => usleep(5000));
        self::assertTrue($pl->forceUnlock('1', 'p') === false);

        $errors = array_values(array_filter($events, fn ($e) => $e[1] === 'redis backend error'));
        self::assertCount(2, $errors, json_encode($events));
        foreach ($errors as $e) {
            self::assertStringContainsString(':***@', $e[2]['redis']);
        }
        self::assertGreaterThanOrEqual(5, count($events));
        self::assertNoSecret(var_export($events, true), 'log events', $m);
        self::assertNoSecret(metrics(), 'metrics()', $m);
    }

    /** A scan directory with one ini file setting the master value of redis_url. */
    private function iniDir(string $url): string
    {
        $dir = $this->tmp('ini');
        @mkdir($dir);
        file_put_contents("$dir/99-secret.ini", "monei_concurrency.redis_url = \"$url\"\n");
        return $dir;
    }

    /** The script shown by phpinfo(): the local value is another URL with a password. */
    private static function phpinfoScript(string $localUrl): string
    {
        return "<?php\n"
            . 'ini_set("monei_concurrency.redis_url", ' . var_export($localUrl, true) . ");\n"
            . "try { (new Monei\\Concurrency\\OrderLockManager())->isLocked('1'); } catch (Throwable \$e) { echo 'isLocked: ', get_class(\$e), \"\\n\"; }\n"
            . "phpinfo();\n";
    }

    public function testPhpinfoTextAndPhpRi(): void
    {
        [$wrong, $m] = self::wrongPassword();
        $env = ['PHP_INI_SCAN_DIR' => getenv('PHP_INI_SCAN_DIR') . PATH_SEPARATOR . $this->iniDir(self::url($wrong))];
        $script = $this->tmp('info.php');
        file_put_contents($script, self::phpinfoScript(self::url()));

        [$code, $out, $err] = self::runPhp([$script], $env);
        self::assertSame(0, $code, $err);
        self::assertStringContainsString('monei_concurrency support => enabled', $out);
        self::assertMatchesRegularExpression('~monei_concurrency\.redis_url => redis://:\*\*\*@127\.0\.0\.1:\d+ => redis://:\*\*\*@127\.0\.0\.1:\d+~', $out);
        self::assertStringNotContainsString('isLocked:', $out, 'the local URL (right password) connects');
        self::assertNoSecret($out . $err, 'phpinfo() text', $m);

        [$code, $out, $err] = self::runPhp(['--ri', 'monei_concurrency'], $env);
        self::assertSame(0, $code, $err);
        self::assertMatchesRegularExpression('~monei_concurrency\.redis_url => redis://:\*\*\*@127\.0\.0\.1:\d+~', $out);
        self::assertNoSecret($out . $err, 'php --ri', $m);
    }

    public function testPhpinfoHtml(): void
    {
        [$wrong, $m] = self::wrongPassword();
        $env = getenv();
        $env['PHP_INI_SCAN_DIR'] = getenv('PHP_INI_SCAN_DIR') . PATH_SEPARATOR . $this->iniDir(self::url($wrong));
        $docroot = $this->tmp('www');
        mkdir($docroot);
        file_put_contents("$docroot/index.php", self::phpinfoScript(self::url()));
        $port = RedisServer::freePort();
        // The built-in web server's phpinfo() is HTML, unlike the CLI's.
        $proc = proc_open([PHP_BINARY, '-S', "127.0.0.1:$port", '-t', $docroot], [
            0 => ['file', '/dev/null', 'r'],
            1 => ['file', $this->tmp('server.out'), 'w'],
            2 => ['file', $this->tmp('server.err'), 'w'],
        ], $pipes, null, $env);
        self::assertIsResource($proc);
        try {
            $html = self::waitUntil(
                fn () => @file_get_contents("http://127.0.0.1:$port/index.php", false, stream_context_create(['http' => ['timeout' => 5]])),
                10,
                'the built-in web server',
            );
        } finally {
            proc_terminate($proc, SIGKILL);
            proc_close($proc);
        }
        self::assertStringContainsString('<table>', $html);
        self::assertStringContainsString('monei_concurrency.redis_url', $html);
        self::assertMatchesRegularExpression('~<td class="v">redis://:\*\*\*@127\.0\.0\.1:\d+ </td><td class="v">redis://:\*\*\*@127\.0\.0\.1:\d+ </td>~', $html);
        self::assertStringNotContainsString('isLocked:', $html);
        self::assertNoSecret($html, 'phpinfo() HTML', $m);
        self::assertNoSecret((string) file_get_contents($this->tmp('server.err')), 'web server log', $m);
    }
}
