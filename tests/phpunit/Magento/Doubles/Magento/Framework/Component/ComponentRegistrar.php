<?php

declare(strict_types=1);

namespace Magento\Framework\Component;

/** Double of Magento's ComponentRegistrar: records what registration.php registers. */
class ComponentRegistrar
{
    public const MODULE = 'module';
    public const LIBRARY = 'library';
    public const THEME = 'theme';
    public const LANGUAGE = 'language';
    public const SETUP = 'setup';

    private static array $paths = [];

    public static function register($type, $componentName, $path)
    {
        if (isset(self::$paths[$type][$componentName])) {
            throw new \LogicException(ucfirst($type) . " '$componentName' from '$path' has been already defined in '" . self::$paths[$type][$componentName] . "'.");
        }
        self::$paths[$type][$componentName] = str_replace('\\', '/', $path);
    }

    public function getPaths($type)
    {
        return self::$paths[$type] ?? [];
    }

    public function getPath($type, $componentName)
    {
        return self::$paths[$type][$componentName] ?? null;
    }
}
