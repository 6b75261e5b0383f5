<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Monei\Concurrency\Tests\Support\PhpProcess;
use PHPUnit\Framework\TestCase;

/**
 * The files of the Magento modules in php/magento: PHP syntax (php -l),
 * well-formed XML, composer.json, Magento's naming conventions (module =
 * namespace = folder, PSR-4 without warnings, app/code loading, no clash
 * with the extension's classes), registration, db_schema.xml and its
 * whitelist, di.xml pointing at classes that exist, plugins matching the
 * methods they wrap, and every class loadable against the doubles of the
 * Magento and MONEI interfaces it implements.
 */
final class ModuleFilesTest extends TestCase
{
    private const MODULES = ROOT . '/php/magento';

    /** @return list<string> */
    private static function files(string $ext, string $under = self::MODULES): array
    {
        $out = [];
        $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($under, \FilesystemIterator::SKIP_DOTS));
        foreach ($it as $f) {
            if ($f->isFile() && str_ends_with($f->getFilename(), '.' . $ext)) {
                $out[] = $f->getPathname();
            }
        }
        sort($out);
        return $out;
    }

    public function testEveryPhpFilePassesPhpLint(): void
    {
        $files = self::files('php');
        self::assertGreaterThan(15, count($files));
        foreach ($files as $file) {
            $proc = proc_open([PHP_BINARY, '-n', '-l', $file], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
            self::assertIsResource($proc);
            $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
            self::assertSame(0, proc_close($proc), "php -l $file: $out");
            self::assertStringContainsString('No syntax errors', $out, $file);
            self::assertStringStartsWith("<?php\n\ndeclare(strict_types=1);\n", (string) file_get_contents($file), $file);
        }
    }

    public function testEveryXmlFileIsWellFormed(): void
    {
        $files = self::files('xml');
        self::assertCount(7, $files, implode(', ', $files));
        foreach ($files as $file) {
            $previous = libxml_use_internal_errors(true);
            libxml_clear_errors();
            $doc = new \DOMDocument();
            $ok = $doc->load($file, LIBXML_NONET);
            $errors = array_map(static fn (\LibXMLError $e) => trim($e->message) . " (line {$e->line})", libxml_get_errors());
            libxml_clear_errors();
            libxml_use_internal_errors($previous);
            self::assertTrue($ok, "$file: " . implode('; ', $errors));
            self::assertSame([], $errors, $file);
            self::assertContains($doc->documentElement->nodeName, ['config', 'schema'], $file);
            self::assertMatchesRegularExpression('/^urn:magento:(framework|module):/', $doc->documentElement->getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'noNamespaceSchemaLocation'), $file);
        }
    }

    public function testComposerJson(): void
    {
        $ranges = ['magento/framework' => '~103.0.7', 'magento/module-sales' => '~103.0.7'];
        $main = json_decode((string) file_get_contents(self::MODULES . '/Concurrency/composer.json'), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame('monei/module-concurrency', $main['name']);
        self::assertSame('magento2-module', $main['type']);
        self::assertArrayHasKey('ext-monei_concurrency', $main['require']);
        // Magento 2.4.7 is framework/module-sales 103.0.7, 2.4.8 is 103.0.8.
        self::assertSame($ranges, array_intersect_key($main['require'], $ranges));
        self::assertArrayNotHasKey('monei/module-monei-payment', $main['require'], 'the main module must not depend on MONEI\'s');
        self::assertSame(['registration.php'], $main['autoload']['files']);
        self::assertSame(['Monei\\Concurrency\\' => ''], $main['autoload']['psr-4']);

        $monei = json_decode((string) file_get_contents(self::MODULES . '/ConcurrencyMonei/composer.json'), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame('monei/module-concurrency-monei', $monei['name']);
        self::assertSame('magento2-module', $monei['type']);
        self::assertSame($ranges, array_intersect_key($monei['require'], $ranges));
        self::assertArrayHasKey('monei/module-concurrency', $monei['require']);
        self::assertSame('^2.2', $monei['require']['monei/module-monei-payment']);
        self::assertSame(['Monei\\ConcurrencyMonei\\' => ''], $monei['autoload']['psr-4']);
    }

    /**
     * What `composer dump-autoload -o` checks for PSR-4: every PHP file but
     * registration.php declares exactly the class its path names under the
     * module's namespace (Monei_Concurrency = Monei\Concurrency\ = the module
     * folder), so there is no PSR-4 warning and app/code loading finds it.
     *
     * @return array<string, string> class => file
     */
    private static function declaredClasses(): array
    {
        $out = [];
        foreach (['Concurrency' => 'Monei\\Concurrency\\', 'ConcurrencyMonei' => 'Monei\\ConcurrencyMonei\\'] as $folder => $ns) {
            $root = self::MODULES . '/' . $folder . '/';
            foreach (self::files('php', $root) as $file) {
                if (basename($file) === 'registration.php') {
                    continue;
                }
                $expected = $ns . str_replace('/', '\\', substr($file, strlen($root), -4));
                $tokens = token_get_all((string) file_get_contents($file));
                $namespace = '';
                $declared = [];
                foreach ($tokens as $i => $t) {
                    if (is_array($t) && $t[0] === T_NAMESPACE) {
                        $namespace = is_array($tokens[$i + 2]) ? $tokens[$i + 2][1] : '';
                    }
                    if (is_array($t) && in_array($t[0], [T_CLASS, T_INTERFACE, T_TRAIT, T_ENUM], true)
                        && is_array($tokens[$i + 2]) && $tokens[$i + 2][0] === T_STRING
                        && !(is_array($tokens[$i - 2] ?? null) && $tokens[$i - 2][0] === T_NEW)) {
                        $declared[] = $namespace . '\\' . $tokens[$i + 2][1];
                    }
                }
                self::assertSame([$expected], $declared, "$file must declare exactly $expected");
                $out[$expected] = $file;
            }
        }
        return $out;
    }

    public function testEveryFileDeclaresThePsr4ClassOfItsPath(): void
    {
        self::assertGreaterThan(20, count(self::declaredClasses()));
    }

    public function testNoClassCollidesWithTheExtensionsOwnClasses(): void
    {
        $stub = (string) file_get_contents(ROOT . '/stubs/monei_concurrency.stub.php');
        preg_match_all('/^\s*(?:final |abstract )?(?:class|interface) (\w+)/m', $stub, $m);
        $native = array_map(static fn ($c) => 'Monei\\Concurrency\\' . $c, $m[1]);
        self::assertContains('Monei\\Concurrency\\ProcessingLock', $native);
        self::assertContains('Monei\\Concurrency\\LockTimeoutException', $native);
        foreach ($native as $class) {
            self::assertTrue(class_exists($class, false), "$class is a class of the loaded extension");
        }
        self::assertSame([], array_values(array_intersect($native, array_keys(self::declaredClasses()))));
    }

    /**
     * The app/code install: both folders copied to app/code/Monei/, and
     * nothing but the loader Magento's root composer.json sets up for
     * app/code (PSR-0 with an empty prefix: Vendor\Module\Path\Class ->
     * app/code/Vendor/Module/Path/Class.php) finds every class of both modules.
     */
    public function testCopiedIntoAppCodeEveryClassIsFound(): void
    {
        $appCode = sys_get_temp_dir() . '/monei-appcode-' . getmypid() . '-' . bin2hex(random_bytes(3)) . '/app/code';
        mkdir($appCode . '/Monei', 0777, true);
        try {
            foreach (['Concurrency', 'ConcurrencyMonei'] as $module) {
                mkdir("$appCode/Monei/$module");
                $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator(self::MODULES . "/$module", \FilesystemIterator::SKIP_DOTS), \RecursiveIteratorIterator::SELF_FIRST);
                foreach ($it as $f) {
                    $target = "$appCode/Monei/$module/" . $it->getSubPathname();
                    $f->isDir() ? mkdir($target) : copy($f->getPathname(), $target);
                }
            }
            $code = <<<'PHP'
                <?php
                [, $appCode, $doubles, $classes] = $argv;
                // Magento's root composer.json: "psr-0": {"": ["app/code/", "generated/code/"]}
                spl_autoload_register(static function (string $class) use ($appCode): void {
                    $file = $appCode . '/' . str_replace(['\\', '_'], '/', $class) . '.php';
                    if (is_file($file)) {
                        require $file;
                    }
                }, true, true);
                require $doubles;
                $out = [];
                foreach (json_decode($classes, true) as $class) {
                    $ok = class_exists($class) || interface_exists($class);
                    $out[$class] = $ok ? (new ReflectionClass($class))->getFileName() : null;
                }
                echo json_encode($out);
                PHP;
            $classes = array_keys(self::declaredClasses());
            [$exit, $out, $err] = PhpProcess::run($code, [$appCode, __DIR__ . '/Doubles/autoload.php', json_encode($classes)]);
            self::assertSame(0, $exit, $err . $out);
            $found = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
            self::assertCount(count($classes), $found);
            foreach ($found as $class => $file) {
                self::assertNotNull($file, "$class not found from app/code");
                self::assertStringStartsWith($appCode . '/Monei/', (string) $file, $class);
            }
        } finally {
            exec('rm -rf ' . escapeshellarg(dirname($appCode, 2)));
        }
    }

    public function testTheSetupOptionsAreWhereMagentoLooksForThem(): void
    {
        // Magento's ConfigOptionsListCollector: <Vendor>\<Module>\Setup\ConfigOptionsList of each module.
        $class = str_replace('_', '\\', 'Monei_Concurrency') . '\\Setup\\ConfigOptionsList';
        self::assertTrue(class_exists($class));
        self::assertContains('Magento\\Framework\\Setup\\ConfigOptionsListInterface', class_implements($class));
    }

    public function testDbSchemaAndItsWhitelistAgree(): void
    {
        $schema = simplexml_load_file(self::MODULES . '/Concurrency/etc/db_schema.xml');
        $whitelist = json_decode((string) file_get_contents(self::MODULES . '/Concurrency/etc/db_schema_whitelist.json'), true, 512, JSON_THROW_ON_ERROR);
        $declared = [];
        foreach ($schema->table as $table) {
            $name = (string) $table['name'];
            foreach ($table->column as $c) {
                $declared[$name]['column'][(string) $c['name']] = true;
            }
            foreach ($table->constraint as $c) {
                $declared[$name]['constraint'][(string) $c['referenceId']] = true;
            }
        }
        self::assertSame([\Monei\Concurrency\Model\OrderFence::TABLE, \Monei\Concurrency\Model\StuckPayments\Snapshot::TABLE], array_keys($declared));
        self::assertSame($declared, $whitelist);
    }

    public function testRegistrationAndModuleXml(): void
    {
        $code = '<?php require ' . var_export(__DIR__ . '/Doubles/autoload.php', true) . ';'
            . 'require ' . var_export(self::MODULES . '/Concurrency/registration.php', true) . ';'
            . 'require ' . var_export(self::MODULES . '/ConcurrencyMonei/registration.php', true) . ';'
            . 'echo json_encode((new Magento\Framework\Component\ComponentRegistrar())->getPaths("module"));';
        [$exit, $out, $err] = PhpProcess::run($code);
        self::assertSame(0, $exit, $err);
        $paths = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(['Monei_Concurrency', 'Monei_ConcurrencyMonei'], array_keys($paths));
        self::assertSame(realpath(self::MODULES . '/Concurrency'), realpath($paths['Monei_Concurrency']));
        self::assertSame(realpath(self::MODULES . '/ConcurrencyMonei'), realpath($paths['Monei_ConcurrencyMonei']));

        $main = simplexml_load_file(self::MODULES . '/Concurrency/etc/module.xml');
        self::assertSame('Monei_Concurrency', (string) $main->module['name']);
        self::assertSame([], $main->xpath('//sequence/module[@name="Monei_MoneiPayment"]'));
        $monei = simplexml_load_file(self::MODULES . '/ConcurrencyMonei/etc/module.xml');
        self::assertSame('Monei_ConcurrencyMonei', (string) $monei->module['name']);
        $sequence = array_map('strval', $monei->xpath('//sequence/module/@name'));
        self::assertContains('Monei_MoneiPayment', $sequence);
        self::assertContains('Monei_Concurrency', $sequence);

        foreach (self::files('php', self::MODULES . '/Concurrency') as $file) {
            self::assertStringNotContainsString('MoneiPayment', (string) file_get_contents($file), "$file must not use MONEI's module");
        }
    }

    public function testDiXmlWiring(): void
    {
        $di = simplexml_load_file(self::MODULES . '/Concurrency/etc/di.xml');
        $prefs = [];
        foreach ($di->preference as $p) {
            $prefs[(string) $p['for']] = (string) $p['type'];
        }
        self::assertSame('Monei\Concurrency\Model\Lock\RedisLockManager', $prefs['Magento\Framework\Lock\LockManagerInterface']);
        $plugins = [];
        foreach ($di->xpath('//type/plugin') as $plugin) {
            $type = $plugin->xpath('..')[0];
            $plugins[(string) $type['name']] = (string) $plugin['type'];
        }
        self::assertSame([
            'Magento\Sales\Model\Order\Payment\Processor' => 'Monei\Concurrency\Plugin\GuardPaymentProcessor',
            'Magento\Sales\Model\Order\Payment\Operations\SaleOperation' => 'Monei\Concurrency\Plugin\GuardSaleOperation',
        ], $plugins);
        $commands = array_map('strval', $di->xpath('//type[@name="Magento\Framework\Console\CommandList"]/arguments/argument[@name="commands"]/item'));
        self::assertSame([
            'Monei\Concurrency\Console\Command\LocksListCommand',
            'Monei\Concurrency\Console\Command\LocksUnlockCommand',
            'Monei\Concurrency\Console\Command\PaymentsStuckCommand',
        ], $commands);

        // The cron job's class and method exist; its schedule is validated against crontab.xsd (ModuleSchemaTest).
        $cron = simplexml_load_file(self::MODULES . '/Concurrency/etc/crontab.xml');
        $jobs = [];
        foreach ($cron->xpath('//group[@id="default"]/job') as $job) {
            $jobs[(string) $job['name']] = [(string) $job['instance'], (string) $job['method']];
        }
        self::assertSame(['monei_concurrency_stuck_payments' => ['Monei\Concurrency\Cron\CheckStuckPayments', 'execute']], $jobs);
        self::assertTrue(method_exists(...$jobs['monei_concurrency_stuck_payments']));

        $monei = simplexml_load_file(self::MODULES . '/ConcurrencyMonei/etc/di.xml');
        self::assertSame('Monei\MoneiPayment\Api\LockManagerInterface', (string) $monei->preference['for']);
        self::assertSame('Monei\ConcurrencyMonei\Model\LockManager', (string) $monei->preference['type']);
        self::assertSame('Monei\MoneiPayment\Api\PaymentProcessorInterface', (string) $monei->type['name']);
        self::assertSame('Monei\ConcurrencyMonei\Plugin\ProcessPaymentOnce', (string) $monei->type[0]->plugin['type']);
        self::assertSame('Monei\MoneiPayment\Model\PaymentProcessor', (string) $monei->type[1]['name']);
        self::assertSame('Monei\ConcurrencyMonei\Plugin\ProcessPaymentDtoOnce', (string) $monei->type[1]->plugin['type']);

        $routes = simplexml_load_file(self::MODULES . '/Concurrency/etc/frontend/routes.xml');
        self::assertSame('monei_concurrency', (string) $routes->router->route['frontName']);
        self::assertSame('Monei_Concurrency', (string) $routes->router->route->module['name']);
    }

    /**
     * Loads every class of both modules in a separate PHP process against the
     * doubles (a signature that does not match Magento's or MONEI's interface
     * is a fatal error there, not here), and checks the di.xml references.
     */
    public function testEveryClassLoadsAndDiReferencesResolve(): void
    {
        $code = <<<'PHP'
            <?php
            require $argv[1];
            $root = $argv[2];
            $out = ['classes' => [], 'di' => []];
            $maps = [
                'Monei\\ConcurrencyMonei\\' => "$root/ConcurrencyMonei/",
                'Monei\\Concurrency\\' => "$root/Concurrency/",
            ];
            $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS));
            foreach ($it as $f) {
                $path = $f->getPathname();
                if (!str_ends_with($path, '.php') || basename($path) === 'registration.php') continue;
                foreach ($maps as $ns => $dir) {
                    if (str_starts_with($path, $dir)) {
                        $class = $ns . str_replace('/', '\\', substr($path, strlen($dir), -4));
                        $out['classes'][$class] = class_exists($class) || interface_exists($class);
                        break;
                    }
                }
            }
            foreach (["$root/Concurrency/etc/di.xml", "$root/ConcurrencyMonei/etc/di.xml"] as $file) {
                $xml = simplexml_load_file($file);
                foreach ($xml->xpath('//preference/@for | //preference/@type | //type/@name | //plugin/@type | //item[@xsi:type="object"]') as $name) {
                    $name = trim((string) $name);
                    $out['di'][$name] = class_exists($name) || interface_exists($name);
                }
            }
            // A plugin's around method takes the subject, $proceed, then the method's own parameters.
            $out['plugin'] = [];
            foreach ([
                ['Monei\Concurrency\Plugin\GuardPaymentProcessor', 'Magento\Sales\Model\Order\Payment\Processor', 'capture'],
                ['Monei\Concurrency\Plugin\GuardPaymentProcessor', 'Magento\Sales\Model\Order\Payment\Processor', 'registerCaptureNotification'],
                ['Monei\Concurrency\Plugin\GuardSaleOperation', 'Magento\Sales\Model\Order\Payment\Operations\SaleOperation', 'execute'],
                ['Monei\ConcurrencyMonei\Plugin\ProcessPaymentOnce', 'Monei\MoneiPayment\Api\PaymentProcessorInterface', 'process'],
                ['Monei\ConcurrencyMonei\Plugin\ProcessPaymentOnce', 'Monei\MoneiPayment\Api\PaymentProcessorInterface', 'isProcessing'],
                ['Monei\ConcurrencyMonei\Plugin\ProcessPaymentOnce', 'Monei\MoneiPayment\Api\PaymentProcessorInterface', 'waitForProcessing'],
                ['Monei\ConcurrencyMonei\Plugin\ProcessPaymentDtoOnce', 'Monei\MoneiPayment\Model\PaymentProcessor', 'processPayment'],
            ] as [$plugin, $subject, $method]) {
                $around = new ReflectionMethod($plugin, 'around' . ucfirst($method));
                $original = new ReflectionMethod($subject, $method);
                $names = static fn (array $ps) => array_map(static fn ($p) => $p->getName(), $ps);
                $out['plugin']["$subject::$method"] = array_slice($names($around->getParameters()), 2) === $names($original->getParameters());
            }
            $out['controller'] = array_values(class_implements('Monei\Concurrency\Controller\Webhook\Index'));
            sort($out['controller']);
            $out['metrics_controller'] = array_values(class_implements('Monei\Concurrency\Controller\Metrics\Index'));
            sort($out['metrics_controller']);
            echo json_encode($out);
            PHP;
        [$exit, $out, $err] = PhpProcess::run($code, [__DIR__ . '/Doubles/autoload.php', self::MODULES]);
        self::assertSame(0, $exit, $err . $out);
        $r = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertGreaterThan(15, count($r['classes']));
        self::assertSame([], array_keys(array_filter($r['classes'], static fn ($ok) => !$ok)), 'files whose PSR-4 class does not load');
        self::assertGreaterThan(8, count($r['di']));
        self::assertSame([], array_keys(array_filter($r['di'], static fn ($ok) => !$ok)), 'di.xml names without a class');
        self::assertCount(7, $r['plugin']);
        self::assertSame([], array_keys(array_filter($r['plugin'], static fn ($ok) => !$ok)), 'around methods whose parameters differ from the method\'s');
        // Magento's router looks for Monei\Concurrency\Controller\Webhook\Index for module Monei_Concurrency.
        self::assertSame([
            'Magento\Framework\App\ActionInterface',
            'Magento\Framework\App\Action\HttpPostActionInterface',
            'Magento\Framework\App\CsrfAwareActionInterface',
        ], $r['controller']);
        // GET /monei_concurrency/metrics -> Monei\Concurrency\Controller\Metrics\Index, GET only (no CSRF exemption needed).
        self::assertSame([
            'Magento\Framework\App\ActionInterface',
            'Magento\Framework\App\Action\HttpGetActionInterface',
        ], $r['metrics_controller']);
    }
}
