<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Tests\Support\BuiltInServer;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * The logger across fatal errors, in one long-lived worker (PHP's built-in
 * web server serves every request from the same process, as an FPM worker
 * does): a fatal error inside the logger, or inside a locked callback, must
 * not stop later requests from logging, and no user code runs after the
 * fatal error of a request.
 */
final class LoggerAfterFatalTest extends RedisTestCase
{
    private const SCRIPT = <<<'PHP'
        <?php
        use Monei\Concurrency\ProcessingLock;
        use function Monei\Concurrency\setLogger;

        $log = getenv('LOG_FILE');
        $mode = $_GET['mode'] ?? 'log';
        $pl = new ProcessingLock(['redis_url' => getenv('REDIS_URL'), 'key_prefix' => getenv('KEY_PREFIX')]);
        setLogger(function (string $level, string $message) use ($log, $mode): void {
            file_put_contents($log, "$mode: $level $message\n", FILE_APPEND);
            if ($mode === 'fatal-in-logger') {
                trigger_error('fatal inside the logger', E_USER_ERROR);
            }
        });
        $pl->executeWithLock('100000950', 'pay', function () use ($mode): void {
            if ($mode === 'fatal-in-callback') {
                trigger_error('fatal inside the callback', E_USER_ERROR);
            }
        });
        echo "done $mode";
        PHP;

    public function testFatalErrorsDoNotSilenceTheLoggerOfLaterRequests(): void
    {
        $docroot = $this->tmp('www');
        mkdir($docroot);
        file_put_contents("$docroot/index.php", self::SCRIPT);
        $log = $this->tmp('events.log');
        touch($log);
        $server = new BuiltInServer($docroot, $this->tmp('server.err'), ['LOG_FILE' => $log, 'KEY_PREFIX' => $this->prefix]);
        try {
            self::assertStringContainsString('done log', $server->get('/index.php?mode=log'));
            $server->get('/index.php?mode=fatal-in-logger');
            $server->get('/index.php?mode=fatal-in-callback');
            self::assertStringContainsString('done log', $server->get('/index.php?mode=log'));
        } finally {
            $server->stop();
        }
        $lines = file($log, FILE_IGNORE_NEW_LINES);
        self::assertSame(
            [
                'log: debug lock acquired', 'log: debug lock released',
                'fatal-in-logger: debug lock acquired',
                // Nothing of the request whose callback died: its queued
                // "lock acquired" is never handed to user code after the fatal error.
                'log: debug lock acquired', 'log: debug lock released',
            ],
            $lines,
            'events delivered per request (server log: ' . file_get_contents($this->tmp('server.err')) . ')',
        );
    }
}
