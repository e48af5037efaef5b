package billing

import (
	"errors"
	"testing"
)

// Every problem Validate finds is a *ConfigError naming the setting's key,
// so that the policy file's reader maps it to the setting's line without
// parsing messages.
func TestValidateNamesTheSetting(t *testing.T) {
	tests := []struct {
		key    string
		mutate func(c *Config)
	}{
		{"time_zone", func(c *Config) { c.TimeZone = "Mars/Olympus" }},
		{"due_days", func(c *Config) { c.DueDays = 40 }},
		{"installment_options", func(c *Config) { c.InstallmentOptions = []int32{3, 99} }},
		{"apr_cap", func(c *Config) { c.APRCap = -1 }},
		{"minimum_rate", func(c *Config) { c.MinimumRate = 2 * RateScale }},
		{"revolving_daily_rate", func(c *Config) { c.RevolvingDailyRate = RateScale }},
		{"penalty_daily_rate", func(c *Config) { c.PenaltyDailyRate = RateScale }},
		{"minimum_floor", func(c *Config) { c.MinimumFloor = -1 }},
		{"waterfall", func(c *Config) { c.Waterfall = c.Waterfall[:2] }},
		{"max_deferral_cycles", func(c *Config) { c.MaxDeferralCycles = -1 }},
		{"history_cycles", func(c *Config) { c.HistoryCycles = 0 }},
		{"late_window_days", func(c *Config) { c.LateWindowDays = 0 }},
		{"freeze_dpd", func(c *Config) { c.FreezeDPD = 0 }},
		{"charge_off_dpd", func(c *Config) { c.ChargeOffDPD = c.FreezeDPD }},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key || ce.Msg == "" {
				t.Fatalf("Validate() = %v (%#v), want a *ConfigError with key %q and a message", err, ce, tt.key)
			}
		})
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}
