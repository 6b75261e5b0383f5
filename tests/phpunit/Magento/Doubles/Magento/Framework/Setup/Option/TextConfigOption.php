<?php

declare(strict_types=1);

namespace Magento\Framework\Setup\Option;

/** Double of Magento's TextConfigOption: a string-valued setup:config:set option. */
class TextConfigOption extends AbstractConfigOption
{
    public const FRONTEND_WIZARD_TEXT = 'text';
    public const FRONTEND_WIZARD_PASSWORD = 'password';
    public const FRONTEND_WIZARD_TEXTAREA = 'textarea';

    public function __construct($name, $frontendType, $configPath, $description = '', $defaultValue = null, $shortCut = null)
    {
        if (!in_array($frontendType, [self::FRONTEND_WIZARD_TEXT, self::FRONTEND_WIZARD_PASSWORD, self::FRONTEND_WIZARD_TEXTAREA], true)) {
            throw new \InvalidArgumentException("Frontend input type has to be 'text', 'textarea' or 'password'.");
        }
        parent::__construct($name, $frontendType, self::VALUE_REQUIRED, $configPath, $description, $defaultValue, $shortCut);
    }

    public function validate($data)
    {
        if (!is_string($data)) {
            throw new \InvalidArgumentException("'{$this->getName()}' must be a string");
        }
        parent::validate($data);
    }
}
