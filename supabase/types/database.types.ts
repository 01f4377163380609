
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "llm": {
          Tables: {
            "admins": {
                  Row: {
                    "granted_at": string,"note": string | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "granted_at"?: string,"note"?: string | null,"user_id": string
                  }
                  Update: {
                    "granted_at"?: string,"note"?: string | null,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"conversation_summaries": {
                  Row: {
                    "conversation_id": string,"created_at": string,"id": string,"key_points": NonNullable<Json>,"summary": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "conversation_id": string,"created_at"?: string,"id"?: string,"key_points"?: NonNullable<Json>,"summary": string,"user_id"?: string | null
                  }
                  Update: {
                    "conversation_id"?: string,"created_at"?: string,"id"?: string,"key_points"?: NonNullable<Json>,"summary"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "conversation_summaries_conversation_id_fkey"
      columns: ["conversation_id"]
isOneToOne: false
      referencedRelation: "conversations"
      referencedColumns: ["id"]
    }
                  ]
                },"conversations": {
                  Row: {
                    "active_leaf_id": string | null,"archived_at": string | null,"completion_tokens": number,"created_at": string,"deleted_at": string | null,"expires_at": string | null,"external_id": string | null,"id": string,"last_message_at": string | null,"last_seq": number,"message_count": number,"metadata": NonNullable<Json>,"prompt_tokens": number,"title": string | null,"total_tokens": number,"updated_at": string,"user_id": string | null,"as_chat_session": Database["llm"]['CompositeTypes']["chat_session"] | null
                  }
                  ComputedFields: "as_chat_session"
                  Insert: {
                    "active_leaf_id"?: string | null,"archived_at"?: string | null,"completion_tokens"?: number,"created_at"?: string,"deleted_at"?: string | null,"expires_at"?: string | null,"external_id"?: string | null,"id"?: string,"last_message_at"?: string | null,"last_seq"?: number,"message_count"?: number,"metadata"?: NonNullable<Json>,"prompt_tokens"?: number,"title"?: string | null,"total_tokens"?: number,"updated_at"?: string,"user_id"?: string | null
                  }
                  Update: {
                    "active_leaf_id"?: string | null,"archived_at"?: string | null,"completion_tokens"?: number,"created_at"?: string,"deleted_at"?: string | null,"expires_at"?: string | null,"external_id"?: string | null,"id"?: string,"last_message_at"?: string | null,"last_seq"?: number,"message_count"?: number,"metadata"?: NonNullable<Json>,"prompt_tokens"?: number,"title"?: string | null,"total_tokens"?: number,"updated_at"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"jobs": {
                  Row: {
                    "command": string,"description": string,"enabled": boolean,"name": string,"schedule_setting": string
                  }
                  ComputedFields: never
                  Insert: {
                    "command": string,"description": string,"enabled"?: boolean,"name": string,"schedule_setting": string
                  }
                  Update: {
                    "command"?: string,"description"?: string,"enabled"?: boolean,"name"?: string,"schedule_setting"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "jobs_schedule_setting_fkey"
      columns: ["schedule_setting"]
isOneToOne: false
      referencedRelation: "settings"
      referencedColumns: ["key"]
    }
                  ]
                },"messages": {
                  Row: {
                    "active": boolean,"completion_tokens": number | null,"content": string,"conversation_id": string,"created_at": string,"id": string,"metadata": NonNullable<Json>,"model": string | null,"parent_id": string | null,"prompt_tokens": number | null,"role": string,"search": unknown,"seq": number,"tokens": number,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "active"?: boolean,"completion_tokens"?: number | null,"content": string,"conversation_id": string,"created_at"?: string,"id"?: string,"metadata"?: NonNullable<Json>,"model"?: string | null,"parent_id"?: string | null,"prompt_tokens"?: number | null,"role": string,"search"?: never,"seq": number,"tokens"?: number,"user_id"?: string | null
                  }
                  Update: {
                    "active"?: boolean,"completion_tokens"?: number | null,"content"?: string,"conversation_id"?: string,"created_at"?: string,"id"?: string,"metadata"?: NonNullable<Json>,"model"?: string | null,"parent_id"?: string | null,"prompt_tokens"?: number | null,"role"?: string,"search"?: never,"seq"?: number,"tokens"?: number,"user_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "messages_conversation_id_fkey"
      columns: ["conversation_id"]
isOneToOne: false
      referencedRelation: "conversations"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_parent_id_fkey"
      columns: ["parent_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    }
                  ]
                },"model_prices": {
                  Row: {
                    "cache_write_per_mtok": number | null,"cached_input_per_mtok": number | null,"created_at": string,"effective_from": string,"effective_to": string | null,"id": number,"input_per_mtok": number | null,"model": string,"note": string | null,"output_per_mtok": number | null,"per_audio_second": number | null,"per_request": number | null,"provider": string
                  }
                  ComputedFields: never
                  Insert: {
                    "cache_write_per_mtok"?: number | null,"cached_input_per_mtok"?: number | null,"created_at"?: string,"effective_from": string,"effective_to"?: string | null,"id"?: never,"input_per_mtok"?: number | null,"model": string,"note"?: string | null,"output_per_mtok"?: number | null,"per_audio_second"?: number | null,"per_request"?: number | null,"provider": string
                  }
                  Update: {
                    "cache_write_per_mtok"?: number | null,"cached_input_per_mtok"?: number | null,"created_at"?: string,"effective_from"?: string,"effective_to"?: string | null,"id"?: never,"input_per_mtok"?: number | null,"model"?: string,"note"?: string | null,"output_per_mtok"?: number | null,"per_audio_second"?: number | null,"per_request"?: number | null,"provider"?: string
                  }
                  Relationships: [
                    
                  ]
                },"quota_escrow": {
                  Row: {
                    "free_cost_usd": number | null,"free_requests": number | null,"free_tokens": number | null,"period_start": string,"quota_period": string,"ready": boolean,"shard": number,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "free_cost_usd"?: number | null,"free_requests"?: number | null,"free_tokens"?: number | null,"period_start": string,"quota_period": string,"ready"?: boolean,"shard": number,"user_id": string
                  }
                  Update: {
                    "free_cost_usd"?: number | null,"free_requests"?: number | null,"free_tokens"?: number | null,"period_start"?: string,"quota_period"?: string,"ready"?: boolean,"shard"?: number,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"quota_reservations": {
                  Row: {
                    "cost_usd": number,"created_at": string,"expires_at": string,"id": string,"tokens": number,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "cost_usd"?: number,"created_at"?: string,"expires_at": string,"id"?: string,"tokens": number,"user_id": string
                  }
                  Update: {
                    "cost_usd"?: number,"created_at"?: string,"expires_at"?: string,"id"?: string,"tokens"?: number,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"releases": {
                  Row: {
                    "installed_at": string,"version": string
                  }
                  ComputedFields: never
                  Insert: {
                    "installed_at"?: string,"version": string
                  }
                  Update: {
                    "installed_at"?: string,"version"?: string
                  }
                  Relationships: [
                    
                  ]
                },"request_ids": {
                  Row: {
                    "created_at": string,"request_id": string,"request_log_id": number,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at": string,"request_id": string,"request_log_id": number,"user_id"?: string | null
                  }
                  Update: {
                    "created_at"?: string,"request_id"?: string,"request_log_id"?: number,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"request_log_rejects": {
                  Row: {
                    "error": string,"id": number,"payload": Json | null,"rejected_at": string,"sqlstate": string
                  }
                  ComputedFields: never
                  Insert: {
                    "error": string,"id"?: never,"payload"?: Json | null,"rejected_at"?: string,"sqlstate": string
                  }
                  Update: {
                    "error"?: string,"id"?: never,"payload"?: Json | null,"rejected_at"?: string,"sqlstate"?: string
                  }
                  Relationships: [
                    
                  ]
                },"request_logs": {
                  Row: {
                    "agent_id": string | null,"audio_seconds": number | null,"cache_hit": boolean,"cache_write_tokens": number,"cached_tokens": number,"completion_tokens": number,"conversation_id": string | null,"cost_source": string,"cost_usd": number | null,"created_at": string,"error_message": string | null,"error_type": string | null,"id": number,"latency_ms": number | null,"message_id": string | null,"metadata": NonNullable<Json>,"model": string,"operation": string | null,"prompt_tokens": number,"provider": string,"request_body": Json | null,"request_id": string | null,"request_type": Database["llm"]['Enums']["request_type"],"reservation_id": string | null,"response_body": Json | null,"saved_cost_usd": number | null,"service": string | null,"status_code": number | null,"success": boolean,"time_to_first_token_ms": number | null,"tokens_total": number,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "agent_id"?: string | null,"audio_seconds"?: number | null,"cache_hit"?: boolean,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"conversation_id"?: string | null,"cost_source"?: string,"cost_usd"?: number | null,"created_at"?: string,"error_message"?: string | null,"error_type"?: string | null,"id"?: number,"latency_ms"?: number | null,"message_id"?: string | null,"metadata"?: NonNullable<Json>,"model": string,"operation"?: string | null,"prompt_tokens"?: number,"provider": string,"request_body"?: Json | null,"request_id"?: string | null,"request_type"?: Database["llm"]['Enums']["request_type"],"reservation_id"?: string | null,"response_body"?: Json | null,"saved_cost_usd"?: number | null,"service"?: string | null,"status_code"?: number | null,"success"?: boolean,"time_to_first_token_ms"?: number | null,"tokens_total"?: number,"user_id"?: string | null
                  }
                  Update: {
                    "agent_id"?: string | null,"audio_seconds"?: number | null,"cache_hit"?: boolean,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"conversation_id"?: string | null,"cost_source"?: string,"cost_usd"?: number | null,"created_at"?: string,"error_message"?: string | null,"error_type"?: string | null,"id"?: number,"latency_ms"?: number | null,"message_id"?: string | null,"metadata"?: NonNullable<Json>,"model"?: string,"operation"?: string | null,"prompt_tokens"?: number,"provider"?: string,"request_body"?: Json | null,"request_id"?: string | null,"request_type"?: Database["llm"]['Enums']["request_type"],"reservation_id"?: string | null,"response_body"?: Json | null,"saved_cost_usd"?: number | null,"service"?: string | null,"status_code"?: number | null,"success"?: boolean,"time_to_first_token_ms"?: number | null,"tokens_total"?: number,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"response_cache": {
                  Row: {
                    "completion_tokens": number | null,"cost_usd": number | null,"created_at": string,"embedding": string | null,"embedding_dims": number | null,"embedding_model": string | null,"expires_at": string,"id": string,"metadata": NonNullable<Json>,"model": string,"parameters": NonNullable<Json>,"prompt": string,"prompt_hash": string,"prompt_tokens": number | null,"provider": string,"response": string,"scope": string,"size_bytes": number,"total_tokens": number | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "completion_tokens"?: number | null,"cost_usd"?: number | null,"created_at"?: string,"embedding"?: string | null,"embedding_dims"?: never,"embedding_model"?: string | null,"expires_at": string,"id"?: string,"metadata"?: NonNullable<Json>,"model": string,"parameters"?: NonNullable<Json>,"prompt": string,"prompt_hash": string,"prompt_tokens"?: number | null,"provider": string,"response": string,"scope": string,"size_bytes": number,"total_tokens"?: number | null,"user_id"?: never
                  }
                  Update: {
                    "completion_tokens"?: number | null,"cost_usd"?: number | null,"created_at"?: string,"embedding"?: string | null,"embedding_dims"?: never,"embedding_model"?: string | null,"expires_at"?: string,"id"?: string,"metadata"?: NonNullable<Json>,"model"?: string,"parameters"?: NonNullable<Json>,"prompt"?: string,"prompt_hash"?: string,"prompt_tokens"?: number | null,"provider"?: string,"response"?: string,"scope"?: string,"size_bytes"?: number,"total_tokens"?: number | null,"user_id"?: never
                  }
                  Relationships: [
                    
                  ]
                },"response_cache_hit_journal": {
                  Row: {
                    "completion_tokens": number | null,"cost_usd": number | null,"entry_id": string,"hit_at": string,"model": string,"prompt_tokens": number | null,"provider": string,"scope": string,"total_tokens": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "completion_tokens"?: number | null,"cost_usd"?: number | null,"entry_id": string,"hit_at"?: string,"model": string,"prompt_tokens"?: number | null,"provider": string,"scope": string,"total_tokens"?: number | null
                  }
                  Update: {
                    "completion_tokens"?: number | null,"cost_usd"?: number | null,"entry_id"?: string,"hit_at"?: string,"model"?: string,"prompt_tokens"?: number | null,"provider"?: string,"scope"?: string,"total_tokens"?: number | null
                  }
                  Relationships: [
                    
                  ]
                },"response_cache_hits": {
                  Row: {
                    "entry_id": string,"hits": number,"last_hit_at": string,"shard": number
                  }
                  ComputedFields: never
                  Insert: {
                    "entry_id": string,"hits"?: number,"last_hit_at"?: string,"shard": number
                  }
                  Update: {
                    "entry_id"?: string,"hits"?: number,"last_hit_at"?: string,"shard"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "response_cache_hits_entry_id_fkey"
      columns: ["entry_id"]
isOneToOne: false
      referencedRelation: "response_cache"
      referencedColumns: ["id"]
    }
                  ]
                },"response_cache_leases": {
                  Row: {
                    "claimed_at": string,"expires_at": string,"lease_id": string,"prompt_hash": string,"scope": string
                  }
                  ComputedFields: never
                  Insert: {
                    "claimed_at"?: string,"expires_at": string,"lease_id"?: string,"prompt_hash": string,"scope": string
                  }
                  Update: {
                    "claimed_at"?: string,"expires_at"?: string,"lease_id"?: string,"prompt_hash"?: string,"scope"?: string
                  }
                  Relationships: [
                    
                  ]
                },"response_cache_totals": {
                  Row: {
                    "misses": number,"model": string,"provider": string,"retired_completion_tokens": number,"retired_cost_usd": number,"retired_entries": number,"retired_hits": number,"retired_prompt_tokens": number,"retired_total_tokens": number,"scope": string,"shard": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "misses"?: number,"model": string,"provider": string,"retired_completion_tokens"?: number,"retired_cost_usd"?: number,"retired_entries"?: number,"retired_hits"?: number,"retired_prompt_tokens"?: number,"retired_total_tokens"?: number,"scope": string,"shard": number,"updated_at"?: string
                  }
                  Update: {
                    "misses"?: number,"model"?: string,"provider"?: string,"retired_completion_tokens"?: number,"retired_cost_usd"?: number,"retired_entries"?: number,"retired_hits"?: number,"retired_prompt_tokens"?: number,"retired_total_tokens"?: number,"scope"?: string,"shard"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"settings": {
                  Row: {
                    "default_value": NonNullable<Json>,"description": string,"key": string,"max_value": Json | null,"min_value": Json | null,"updated_at": string,"updated_by": string | null,"value": NonNullable<Json>,"value_type": string
                  }
                  ComputedFields: never
                  Insert: {
                    "default_value": NonNullable<Json>,"description": string,"key": string,"max_value"?: Json | null,"min_value"?: Json | null,"updated_at"?: string,"updated_by"?: string | null,"value": NonNullable<Json>,"value_type": string
                  }
                  Update: {
                    "default_value"?: NonNullable<Json>,"description"?: string,"key"?: string,"max_value"?: Json | null,"min_value"?: Json | null,"updated_at"?: string,"updated_by"?: string | null,"value"?: NonNullable<Json>,"value_type"?: string
                  }
                  Relationships: [
                    
                  ]
                },"usage_backfills": {
                  Row: {
                    "batch_periods": number,"created_at": string,"finished_at": string | null,"from_day": string,"id": number,"next_start": string | null,"period_type": string | null,"periods_done": number,"periods_skipped": number,"rollup_rows": number,"status": string,"to_day": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "batch_periods": number,"created_at"?: string,"finished_at"?: string | null,"from_day": string,"id"?: never,"next_start"?: string | null,"period_type"?: string | null,"periods_done"?: number,"periods_skipped"?: number,"rollup_rows"?: number,"status"?: string,"to_day": string,"updated_at"?: string
                  }
                  Update: {
                    "batch_periods"?: number,"created_at"?: string,"finished_at"?: string | null,"from_day"?: string,"id"?: never,"next_start"?: string | null,"period_type"?: string | null,"periods_done"?: number,"periods_skipped"?: number,"rollup_rows"?: number,"status"?: string,"to_day"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"usage_journal": {
                  Row: {
                    "agent_id": string | null,"audio_seconds": number | null,"cache_hit": boolean,"cache_write_tokens": number,"cached_tokens": number,"completion_tokens": number,"conversation_id": string | null,"cost_usd": number | null,"model": string,"occurred_at": string,"prompt_tokens": number,"provider": string,"request_log_id": number | null,"request_type": Database["llm"]['Enums']["request_type"],"requests": number,"reservation_id": string | null,"saved_cost_usd": number | null,"saved_tokens": number,"success": boolean,"total_tokens": number,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "agent_id"?: string | null,"audio_seconds"?: number | null,"cache_hit": boolean,"cache_write_tokens": number,"cached_tokens": number,"completion_tokens": number,"conversation_id"?: string | null,"cost_usd"?: number | null,"model": string,"occurred_at": string,"prompt_tokens": number,"provider": string,"request_log_id"?: number | null,"request_type": Database["llm"]['Enums']["request_type"],"requests": number,"reservation_id"?: string | null,"saved_cost_usd"?: number | null,"saved_tokens": number,"success": boolean,"total_tokens": number,"user_id"?: string | null
                  }
                  Update: {
                    "agent_id"?: string | null,"audio_seconds"?: number | null,"cache_hit"?: boolean,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"conversation_id"?: string | null,"cost_usd"?: number | null,"model"?: string,"occurred_at"?: string,"prompt_tokens"?: number,"provider"?: string,"request_log_id"?: number | null,"request_type"?: Database["llm"]['Enums']["request_type"],"requests"?: number,"reservation_id"?: string | null,"saved_cost_usd"?: number | null,"saved_tokens"?: number,"success"?: boolean,"total_tokens"?: number,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"usage_journal_rejects": {
                  Row: {
                    "error": string,"id": number,"journal_row": NonNullable<Json>,"occurred_at": string | null,"rejected_at": string,"request_log_id": number | null,"sqlstate": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "error": string,"id"?: never,"journal_row": NonNullable<Json>,"occurred_at"?: string | null,"rejected_at"?: string,"request_log_id"?: number | null,"sqlstate": string,"user_id"?: string | null
                  }
                  Update: {
                    "error"?: string,"id"?: never,"journal_row"?: NonNullable<Json>,"occurred_at"?: string | null,"rejected_at"?: string,"request_log_id"?: number | null,"sqlstate"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"usage_quotas": {
                  Row: {
                    "cost_limit": number | null,"hard": boolean,"quota_period": string,"request_limit": number | null,"token_limit": number | null,"updated_at": string,"updated_by": string | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "cost_limit"?: number | null,"hard"?: boolean,"quota_period": string,"request_limit"?: number | null,"token_limit"?: number | null,"updated_at"?: string,"updated_by"?: string | null,"user_id"?: string | null
                  }
                  Update: {
                    "cost_limit"?: number | null,"hard"?: boolean,"quota_period"?: string,"request_limit"?: number | null,"token_limit"?: number | null,"updated_at"?: string,"updated_by"?: string | null,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"usage_rollup_members": {
                  Row: {
                    "member_id": string,"member_type": string,"period_start": string,"period_type": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "member_id": string,"member_type": string,"period_start": string,"period_type": string,"user_id": string
                  }
                  Update: {
                    "member_id"?: string,"member_type"?: string,"period_start"?: string,"period_type"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"usage_rollups": {
                  Row: {
                    "audio_seconds": number,"cache_hits": number,"cache_write_tokens": number,"cached_tokens": number,"completion_tokens": number,"cost_usd": number,"failed_requests": number,"last_activity": string | null,"model": string,"period_start": string,"period_type": string,"prompt_tokens": number,"provider": string,"request_type": Database["llm"]['Enums']["request_type"],"requests": number,"saved_cost_usd": number,"saved_tokens": number,"total_tokens": number,"updated_at": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "audio_seconds"?: number,"cache_hits"?: number,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"cost_usd"?: number,"failed_requests"?: number,"last_activity"?: string | null,"model": string,"period_start": string,"period_type": string,"prompt_tokens"?: number,"provider": string,"request_type": Database["llm"]['Enums']["request_type"],"requests"?: number,"saved_cost_usd"?: number,"saved_tokens"?: number,"total_tokens"?: number,"updated_at"?: string,"user_id"?: string | null
                  }
                  Update: {
                    "audio_seconds"?: number,"cache_hits"?: number,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"cost_usd"?: number,"failed_requests"?: number,"last_activity"?: string | null,"model"?: string,"period_start"?: string,"period_type"?: string,"prompt_tokens"?: number,"provider"?: string,"request_type"?: Database["llm"]['Enums']["request_type"],"requests"?: number,"saved_cost_usd"?: number,"saved_tokens"?: number,"total_tokens"?: number,"updated_at"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"user_aliases": {
                  Row: {
                    "created_at": string,"identifier": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"identifier": string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"identifier"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            "daily_usage_summary": {
                  Row: {
                    "cache_hits": number | null,"count": number | null,"date": string | null,"failed_count": number | null,"model": string | null,"provider": string | null,"request_type": Database["llm"]['Enums']["request_type"] | null,"saved_cost": number | null,"saved_tokens": number | null,"total_cost": number | null,"total_tokens": number | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"usage_live": {
                  Row: {
                    "audio_seconds": number | null,"cache_hits": number | null,"cache_write_tokens": number | null,"cached_tokens": number | null,"completion_tokens": number | null,"cost_usd": number | null,"failed_requests": number | null,"last_activity": string | null,"model": string | null,"period_start": string | null,"period_type": string | null,"prompt_tokens": number | null,"provider": string | null,"request_type": Database["llm"]['Enums']["request_type"] | null,"requests": number | null,"saved_cost_usd": number | null,"saved_tokens": number | null,"total_tokens": number | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"usage_members_live": {
                  Row: {
                    "member_id": string | null,"member_type": string | null,"period_start": string | null,"period_type": string | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"user_token_usage": {
                  Row: {
                    "agent_ids": (string)[] | null,"conversation_count": number | null,"last_activity": string | null,"message_count": number | null,"period_end": string | null,"period_start": string | null,"period_type": string | null,"total_completion_tokens": number | null,"total_cost_usd": number | null,"total_prompt_tokens": number | null,"total_tokens": number | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"user_usage_stats": {
                  Row: {
                    "cost_usd": number | null,"period_end": string | null,"period_start": string | null,"period_type": string | null,"quota_limit": number | null,"requests_count": number | null,"tokens_consumed": number | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                }
          }
          Functions: {
            "activate_path":
{ Args: { "p_conversation_id": string,"p_target": string }; Returns: undefined
                           },
"add_conversation_summary":
{ Args: { "conversation_id": string,"key_points"?: Json,"summary": string }; Returns: {
              "conversation_id": string,
"created_at": string,
"id": string,
"key_points": NonNullable<Json>,
"summary": string,
"user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "conversation_summaries"
        isOneToOne: true
        isSetofReturn: false
      } },
"add_message":
{ Args: { "completion_tokens"?: number,"content": string,"conversation_id": string,"metadata"?: Json,"model"?: string,"prompt_tokens"?: number,"role": string,"tokens"?: number }; Returns: Database["llm"]['CompositeTypes']["chat_message"]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: true
        isSetofReturn: false
      } },
"aggregate_user_token_usage":
{ Args: { "p_period_end": string,"p_period_start": string,"p_period_type": string,"p_user_id": string }; Returns: undefined
                           },
"append_chat_message":
{ Args: { "completion_tokens"?: number,"content"?: string,"metadata"?: Json,"model"?: string,"prompt_tokens"?: number,"role"?: string,"session_id": string,"tokens"?: number,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_message"]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: true
        isSetofReturn: false
      } },
"apply_request_log_retention":
{ Args: Record<PropertyKey, never>; Returns: {
              "action": string,"bytes": number,"partition_name": string,"row_count": number
            }[]
                           },
"apply_usage_rollup_retention":
{ Args: Record<PropertyKey, never>; Returns: {
              "kept_from": string,"member_rows": number,"period_type": string,"rollup_rows": number
            }[]
                           },
"archive_conversation":
{ Args: { "archived"?: boolean,"conversation_id": string }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"as_chat_message":
{ Args: { "p_msg": Omit<Database["llm"]['Tables']["messages"]['Row'], Database["llm"]['Tables']["messages"]['ComputedFields']>,"p_user_label": string }; Returns: Database["llm"]['CompositeTypes']["chat_message"]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: true
        isSetofReturn: false
      } },
"as_chat_session":
{ Args: { "p_conv": Omit<Database["llm"]['Tables']["conversations"]['Row'], Database["llm"]['Tables']["conversations"]['ComputedFields']> }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "llm.conversations"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"cache_canonical_json":
{ Args: { "p_value": Json }; Returns: Json
                           },
"cache_canonical_key":
{ Args: { "p_model": string,"p_parameters": Json,"p_prompt": string,"p_provider": string }; Returns: Record<string, unknown>
                           },
"cache_check_embedding":
{ Args: { "p_embedding": string,"p_embedding_model": string,"p_scope": string }; Returns: number
                           },
"cache_check_json_size":
{ Args: { "p_field": string,"p_value": Json }; Returns: Json
                           },
"cache_count_hit":
{ Args: { "p_hit": Database["llm"]['CompositeTypes']["cache_hit"] }; Returns: number
                           },
"cache_count_hot_hit":
{ Args: { "p_hit": Database["llm"]['CompositeTypes']["cache_hit"] }; Returns: undefined
                           },
"cache_count_miss":
{ Args: { "p_model": string,"p_provider": string,"p_scope": string }; Returns: undefined
                           },
"cache_fold_hits":
{ Args: { "p_max_rows": number }; Returns: number
                           },
"cache_hit_count":
{ Args: { "p_entry_id": string }; Returns: number
                           },
"cache_llm_response":
{ Args: { "completion_tokens"?: number,"cost_usd"?: number,"embedding"?: string,"embedding_model"?: string,"metadata"?: Json,"model": string,"namespace"?: string,"parameters"?: Json,"prompt": string,"prompt_tokens"?: number,"provider": string,"response": string,"ttl_hours"?: number,"user_id"?: string }; Returns: boolean
                           },
"cache_lookup":
{ Args: { "p_prompt_hash": string,"p_scope": string }; Returns: Database["llm"]['CompositeTypes']["cache_hit"]
                          SetofOptions: {
        from: "*"
        to: "cache_hit"
        isOneToOne: true
        isSetofReturn: false
      } },
"cache_metadata_count":
{ Args: { "p_explicit": number,"p_key": string,"p_metadata": Json }; Returns: number
                           },
"cache_retire":
{ Args: { "p_ids": (string)[] }; Returns: number
                           },
"cache_scope":
{ Args: { "p_namespace": string,"p_user_id": string }; Returns: string
                           },
"cache_scope_filter":
{ Args: { "p_scope": string }; Returns: string
                           },
"cache_similar":
{ Args: { "p_count_hit": boolean,"p_embedding": string,"p_embedding_model": string,"p_limit": number,"p_model": string,"p_namespace": string,"p_parameters": Json,"p_provider": string,"p_threshold": number,"p_user_id": string }; Returns: Database["llm"]['CompositeTypes']["similar_cached_prompt"][]
                          SetofOptions: {
        from: "*"
        to: "similar_cached_prompt"
        isOneToOne: false
        isSetofReturn: true
      } },
"capped_body":
{ Args: { "p_body": Json }; Returns: Json
                           },
"check_day_range":
{ Args: { "p_from": string,"p_from_field": string,"p_to": string,"p_to_field": string }; Returns: undefined
                           },
"check_message":
{ Args: { "p_content": string,"p_metadata": Json,"p_role": string }; Returns: Json
                           },
"check_metadata":
{ Args: { "p_field": string,"p_value": Json }; Returns: Json
                           },
"check_page_arg":
{ Args: { "p_field": string,"p_value": number }; Returns: number
                           },
"check_period_type":
{ Args: { "p_field": string,"p_value": string }; Returns: string
                           },
"check_setting_value":
{ Args: { "p_key": string,"p_max"?: Json,"p_min"?: Json,"p_type": string,"p_value": Json }; Returns: Json
                           },
"check_user_quota":
{ Args: { "quota_period"?: string,"user_id"?: string }; Returns: Json
                           },
"claim_llm_cache_key":
{ Args: { "lease_seconds"?: number,"model": string,"namespace"?: string,"parameters"?: Json,"prompt": string,"provider": string,"user_id"?: string,"wait_seconds"?: number }; Returns: Database["llm"]['CompositeTypes']["cache_claim"]
                          SetofOptions: {
        from: "*"
        to: "cache_claim"
        isOneToOne: true
        isSetofReturn: false
      } },
"cleanup_expired_conversations":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"cleanup_expired_llm_cache":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"clear_conversation":
{ Args: { "conversation_id": string }; Returns: number
                           },
"clear_user_quota":
{ Args: { "quota_period": string,"user_id": string }; Returns: boolean
                           },
"conversation_stats":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"cost_by_user":
{ Args: { "since"?: string,"until"?: string }; Returns: {
              "total_cost_usd": number,"total_requests": number,"total_tokens": number,"user_id": string,"user_label": string
            }[]
                           },
"create_chat_session":
{ Args: { "metadata"?: Json,"title"?: string,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_conversation":
{ Args: { "conversation_id"?: string,"metadata"?: Json,"title"?: string,"ttl_hours"?: number,"user_id"?: string }; Returns: string
                           },
"create_request_log_partitions":
{ Args: { "from_day"?: string,"to_day"?: string }; Returns: string[]
                           },
"cron_schedule_problem":
{ Args: { "p_schedule": string,"p_version": (number)[] }; Returns: string
                           },
"daily_usage":
{ Args: { "since"?: string,"until"?: string }; Returns: {
              "date": string,"failed_requests": number,"saved_tokens": number,"total_cost_usd": number,"total_requests": number,"total_tokens": number
            }[]
                           },
"define_setting":
{ Args: { "p_default": Json,"p_description": string,"p_key": string,"p_max"?: Json,"p_min"?: Json,"p_type": string }; Returns: undefined
                           },
"delete_conversation":
{ Args: { "conversation_id": string }; Returns: boolean
                           },
"edit_message":
{ Args: { "completion_tokens"?: number,"content": string,"message_id": string,"metadata"?: Json,"model"?: string,"prompt_tokens"?: number,"tokens"?: number }; Returns: Database["llm"]['CompositeTypes']["chat_message"]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: true
        isSetofReturn: false
      } },
"effective_quotas":
{ Args: { "p_user_id": string }; Returns: {
              "cost_limit": number | null,
"hard": boolean,
"quota_period": string,
"request_limit": number | null,
"token_limit": number | null,
"updated_at": string,
"updated_by": string | null,
"user_id": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "usage_quotas"
        isOneToOne: false
        isSetofReturn: true
      } },
"error_rate_by_model":
{ Args: { "since"?: string,"until"?: string }; Returns: {
              "error_rate_pct": number,"failed_requests": number,"model": string,"request_type": Database["llm"]['Enums']["request_type"],"total_requests": number
            }[]
                           },
"estimate_cost":
{ Args: { "audio_seconds"?: number,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"model": string,"priced_at"?: string,"prompt_tokens"?: number,"provider": string }; Returns: number
                           },
"evict_llm_cache":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"export_conversation":
{ Args: { "conversation_id": string }; Returns: Json
                           },
"extend_ttl":
{ Args: { "conversation_id": string,"hours": number }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"find_conversation":
{ Args: { "p_deleted"?: boolean,"p_field": string,"p_id": string,"p_user_id": string,"p_write": boolean }; Returns: {
              "active_leaf_id": string | null,
"archived_at": string | null,
"completion_tokens": number,
"created_at": string,
"deleted_at": string | null,
"expires_at": string | null,
"external_id": string | null,
"id": string,
"last_message_at": string | null,
"last_seq": number,
"message_count": number,
"metadata": NonNullable<Json>,
"prompt_tokens": number,
"title": string | null,
"total_tokens": number,
"updated_at": string,
"user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "conversations"
        isOneToOne: true
        isSetofReturn: false
      } },
"find_message_conversation":
{ Args: { "p_message_id": string,"p_write": boolean }; Returns: {
              "active_leaf_id": string | null,
"archived_at": string | null,
"completion_tokens": number,
"created_at": string,
"deleted_at": string | null,
"expires_at": string | null,
"external_id": string | null,
"id": string,
"last_message_at": string | null,
"last_seq": number,
"message_count": number,
"metadata": NonNullable<Json>,
"prompt_tokens": number,
"title": string | null,
"total_tokens": number,
"updated_at": string,
"user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "conversations"
        isOneToOne: true
        isSetofReturn: false
      } },
"fold_journal":
{ Args: { "p_max_rows": number,"p_user_id": string }; Returns: number
                           },
"fold_rows":
{ Args: { "p_rows": (unknown)[],"p_tz": string }; Returns: number
                           },
"fold_usage":
{ Args: { "max_rows"?: number }; Returns: number
                           },
"get_cached_llm_response":
{ Args: { "model": string,"namespace"?: string,"parameters"?: Json,"prompt": string,"provider": string,"user_id"?: string }; Returns: Json
                           },
"get_chat_history":
{ Args: { "limit_messages"?: number,"limit_sessions"?: number,"user_id"?: string }; Returns: Json
                           },
"get_chat_messages":
{ Args: { "limit"?: number,"offset"?: number,"session_id": string,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_message"][]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_chat_session":
{ Args: { "session_id": string,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"get_conversation":
{ Args: { "conversation_id": string }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"get_conversation_summaries":
{ Args: { "conversation_id": string }; Returns: {
              "conversation_id": string,
"created_at": string,
"id": string,
"key_points": NonNullable<Json>,
"summary": string,
"user_id": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "conversation_summaries"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_llm_cache_stats":
{ Args: Record<PropertyKey, never>; Returns: Database["llm"]['CompositeTypes']["cache_stats"][]
                          SetofOptions: {
        from: "*"
        to: "cache_stats"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_message_alternatives":
{ Args: { "message_id": string }; Returns: Database["llm"]['CompositeTypes']["chat_message"][]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_messages":
{ Args: { "after"?: string,"before"?: string,"conversation_id": string,"limit"?: number }; Returns: Database["llm"]['CompositeTypes']["chat_message"][]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_similar_cached_prompts":
{ Args: { "count_hit"?: boolean,"embedding": string,"embedding_model"?: string,"limit"?: number,"model"?: string,"namespace"?: string,"parameters"?: Json,"provider"?: string,"similarity_threshold"?: number,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["similar_cached_prompt"][]
                          SetofOptions: {
        from: "*"
        to: "similar_cached_prompt"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_user_chat_sessions":
{ Args: { "include_archived"?: boolean,"limit"?: number,"offset"?: number,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_session"][]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_user_conversations":
{ Args: { "include_archived"?: boolean,"limit"?: number,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_session"][]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_user_token_usage":
{ Args: { "days"?: number,"user_id"?: string }; Returns: Json
                           },
"import_check_branch":
{ Args: { "p_conversation_id": string }; Returns: undefined
                           },
"import_conversation":
{ Args: { "as_new"?: boolean,"conversation": Json,"user_id"?: string }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"import_legacy_usage":
{ Args: { "messages": Json }; Returns: Json
                           },
"import_summaries":
{ Args: { "p_conv": Omit<Database["llm"]['Tables']["conversations"]['Row'], Database["llm"]['Tables']["conversations"]['ComputedFields']>,"p_keep_ids": boolean,"p_summaries": Json }; Returns: undefined
                           },
"insert_message":
{ Args: { "p_branch": boolean,"p_completion_tokens": number,"p_content": string,"p_conversation_id": string,"p_metadata": Json,"p_model": string,"p_parent_id": string,"p_prompt_tokens": number,"p_role": string,"p_tokens": number }; Returns: {
              "active": boolean,
"completion_tokens": number | null,
"content": string,
"conversation_id": string,
"created_at": string,
"id": string,
"metadata": NonNullable<Json>,
"model": string | null,
"parent_id": string | null,
"prompt_tokens": number | null,
"role": string,
"search": unknown,
"seq": number,
"tokens": number,
"user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"invalidate_llm_cache":
{ Args: { "model"?: string,"older_than"?: string,"provider"?: string,"scope"?: string }; Returns: number
                           },
"is_admin":
{ Args: Record<PropertyKey, never>; Returns: boolean
                           },
"is_backend":
{ Args: Record<PropertyKey, never>; Returns: boolean
                           },
"is_request_time":
{ Args: { "p_value": string }; Returns: boolean
                           },
"job_health":
{ Args: Record<PropertyKey, never>; Returns: {
              "enabled": boolean,"failed_runs": number,"failing_since": string,"job_name": string,"last_error": string,"last_run_at": string,"last_status": string,"points_here": boolean,"schedule": string,"scheduled": boolean
            }[]
                           },
"json_boolean":
{ Args: { "p_field": string,"p_value": Json }; Returns: boolean
                           },
"json_text":
{ Args: { "p_field": string,"p_value": Json }; Returns: string
                           },
"json_timestamptz":
{ Args: { "p_field": string,"p_value": Json }; Returns: string
                           },
"json_uuid":
{ Args: { "p_field": string,"p_value": Json }; Returns: string
                           },
"latency_by_model":
{ Args: { "since"?: string,"until"?: string }; Returns: {
              "avg_latency_ms": number,"avg_tokens": number,"model": string,"p50_latency_ms": number,"p95_latency_ms": number,"request_count": number,"request_type": Database["llm"]['Enums']["request_type"]
            }[]
                           },
"latest_messages_json":
{ Args: { "p_conv": Omit<Database["llm"]['Tables']["conversations"]['Row'], Database["llm"]['Tables']["conversations"]['ComputedFields']>,"p_limit": number }; Returns: Json
                           },
"list_conversations":
{ Args: { "p_include_archived": boolean,"p_limit": number,"p_offset": number,"p_user": string }; Returns: {
              "active_leaf_id": string | null,
"archived_at": string | null,
"completion_tokens": number,
"created_at": string,
"deleted_at": string | null,
"expires_at": string | null,
"external_id": string | null,
"id": string,
"last_message_at": string | null,
"last_seq": number,
"message_count": number,
"metadata": NonNullable<Json>,
"prompt_tokens": number,
"title": string | null,
"total_tokens": number,
"updated_at": string,
"user_id": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "conversations"
        isOneToOne: false
        isSetofReturn: true
      } },
"llm_cache_key":
{ Args: { "model": string,"parameters"?: Json,"prompt": string,"provider": string }; Returns: string
                           },
"log_cache_hit":
{ Args: { "conversation_id"?: string,"count_hit"?: boolean,"entry_id": string,"latency_ms"?: number,"metadata"?: Json,"request_id"?: string,"user_id"?: string }; Returns: number
                           },
"log_request":
{ Args: { "agent_id"?: string,"audio_seconds"?: number,"cache_hit"?: boolean,"cache_write_tokens"?: number,"cached_tokens"?: number,"completion_tokens"?: number,"conversation_id"?: string,"cost_usd"?: number,"created_at"?: string,"error_message"?: string,"error_type"?: string,"latency_ms"?: number,"message_id"?: string,"metadata"?: Json,"model": string,"operation"?: string,"prompt_tokens"?: number,"provider": string,"request_body"?: Json,"request_id"?: string,"request_type"?: string,"reservation_id"?: string,"response_body"?: Json,"service"?: string,"status_code"?: number,"success"?: boolean,"time_to_first_token_ms"?: number,"total_tokens"?: number,"user_id"?: string }; Returns: number
                           },
"log_request_batch":
{ Args: { "p_dead_letter": boolean,"p_requests": Json }; Returns: Record<string, unknown>
                           },
"log_request_json":
{ Args: { "p_request": Json }; Returns: number
                           },
"log_requests":
{ Args: { "requests": Json }; Returns: (number)[]
                           },
"message_tokens":
{ Args: { "p_completion_tokens": number,"p_metadata": Json,"p_prompt_tokens": number,"p_tokens": number }; Returns: (number)[]
                           },
"new_conversation":
{ Args: { "p_expires_at": string,"p_id": string,"p_metadata": Json,"p_title": string,"p_user": string }; Returns: {
              "active_leaf_id": string | null,
"archived_at": string | null,
"completion_tokens": number,
"created_at": string,
"deleted_at": string | null,
"expires_at": string | null,
"external_id": string | null,
"id": string,
"last_message_at": string | null,
"last_seq": number,
"message_count": number,
"metadata": NonNullable<Json>,
"prompt_tokens": number,
"title": string | null,
"total_tokens": number,
"updated_at": string,
"user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "conversations"
        isOneToOne: true
        isSetofReturn: false
      } },
"open_reservations":
{ Args: { "p_user_id": string }; Returns: {
              "cost_usd": number,"expired": number,"requests": number,"tokens": number
            }[]
                           },
"page_messages":
{ Args: { "p_after": string,"p_before": string,"p_field": string,"p_from_start": boolean,"p_id": string,"p_limit": number,"p_offset": number,"p_user_id": string }; Returns: Database["llm"]['CompositeTypes']["chat_message"][]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: false
        isSetofReturn: true
      } },
"period_floor":
{ Args: { "p_local": string,"p_period_type": string }; Returns: string
                           },
"period_step":
{ Args: { "p_period_type": string }; Returns: string
                           },
"period_usage":
{ Args: { "p_period_start": string,"p_period_type": string,"p_tz": string,"p_user_id": string }; Returns: {
              "cost_usd": number,"requests": number,"tokens": number,"unfolded_rows": number
            }[]
                           },
"pg_cron_version":
{ Args: Record<PropertyKey, never>; Returns: (number)[]
                           },
"purge_deleted_conversations":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"quota_change_lock":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"quota_escrow_lock":
{ Args: { "p_user_id": string }; Returns: number
                           },
"quota_escrow_refill":
{ Args: { "p_cost_usd": number,"p_tokens": number,"p_tz": string,"p_user_id": string }; Returns: undefined
                           },
"quota_escrow_shard":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"quota_escrow_split":
{ Args: { "p_period": string,"p_start": string,"p_user_id": string }; Returns: boolean
                           },
"quota_escrow_take":
{ Args: { "p_at": (string)[],"p_cost_usd": (number)[],"p_requests": (number)[],"p_tokens": (number)[],"p_user_ids": (string)[] }; Returns: undefined
                           },
"raw_usage_kept_since":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"rebuild_usage_rollups":
{ Args: { "p_all_users": boolean,"p_first": string,"p_last": string,"p_period_type": string,"p_user_id": string }; Returns: number
                           },
"recompute_costs":
{ Args: { "since": string,"until": string }; Returns: Record<string, unknown>
                           },
"record_completion":
{ Args: { "agent_id"?: string,"cached_tokens"?: number,"completion_tokens"?: number,"content": string,"conversation_id": string,"cost_usd"?: number,"latency_ms"?: number,"metadata"?: Json,"model": string,"prompt_tokens"?: number,"provider": string,"request_id"?: string,"request_metadata"?: Json,"reservation_id"?: string,"total_tokens"?: number,"user_id"?: string }; Returns: Record<string, unknown>
                           },
"record_completions":
{ Args: { "completions": Json }; Returns: {
              "message_id": string,"request_log_id": number
            }[]
                           },
"record_token_usage":
{ Args: { "model": string,"provider": string,"request_metadata"?: Json,"tokens_consumed": number,"user_id": string }; Returns: boolean
                           },
"register_job":
{ Args: { "p_command": string,"p_description": string,"p_name": string,"p_schedule_setting": string }; Returns: undefined
                           },
"reject_request":
{ Args: { "p_audio_seconds": number,"p_cache_hit": boolean,"p_cache_write_tokens": number,"p_cached_tokens": number,"p_completion_tokens": number,"p_cost_usd": number,"p_created_at": string,"p_latency_ms": number,"p_metadata": Json,"p_model": string,"p_prompt_tokens": number,"p_provider": string,"p_request_id": string,"p_request_type": string,"p_status_code": number,"p_success": boolean,"p_time_to_first_token_ms": number,"p_total_tokens": number }; Returns: undefined
                           },
"release_llm_cache_key":
{ Args: { "lease_id": string }; Returns: boolean
                           },
"release_reservation":
{ Args: { "reservation_id": string }; Returns: boolean
                           },
"repair_installation":
{ Args: Record<PropertyKey, never>; Returns: {
              "piece": string,"status": string
            }[]
                           },
"request_batch_item_reads":
{ Args: { "p_item": Json }; Returns: boolean
                           },
"request_batch_items":
{ Args: { "p_requests": Json }; Returns: Database["llm"]['CompositeTypes']["request_batch_item"][]
                          SetofOptions: {
        from: "*"
        to: "request_batch_item"
        isOneToOne: false
        isSetofReturn: true
      } },
"request_batch_read":
{ Args: { "p_requests": Json }; Returns: Database["llm"]['CompositeTypes']["request_batch_item"][]
                          SetofOptions: {
        from: "*"
        to: "request_batch_item"
        isOneToOne: false
        isSetofReturn: true
      } },
"request_conversation_uuid":
{ Args: { "p_id": string }; Returns: string
                           },
"request_field":
{ Args: { "p_field": string,"p_kind": string,"p_request": Json }; Returns: string
                           },
"request_role":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"require_admin":
{ Args: { "p_action": string }; Returns: undefined
                           },
"reserve_quota":
{ Args: { "cost_usd"?: number,"tokens": number,"user_id": string }; Returns: string
                           },
"reset_setting":
{ Args: { "key": string }; Returns: Json
                           },
"resolve_user":
{ Args: { "p_admin_may_name_others": boolean,"p_user_id": string }; Returns: string
                           },
"restore_conversation":
{ Args: { "conversation_id": string }; Returns: Database["llm"]['CompositeTypes']["chat_session"]
                          SetofOptions: {
        from: "*"
        to: "chat_session"
        isOneToOne: true
        isSetofReturn: false
      } },
"run_cache_hit_fold":
{ Args: { "max_batches"?: number }; Returns: number
                           },
"run_usage_backfill":
{ Args: { "max_batches"?: number }; Returns: {
              "backfill_id": number,"first_period": string,"last_period": string,"period_type": string,"rollup_rows": number,"skipped_periods": number,"status": string
            }[]
                           },
"run_usage_fold":
{ Args: { "max_batches"?: number }; Returns: number
                           },
"search_messages":
{ Args: { "limit"?: number,"query": string,"user_id"?: string }; Returns: {
              "active": boolean,"content": string,"conversation_id": string,"conversation_title": string,"created_at": string,"id": string,"rank": number,"role": string,"snippet": string
            }[]
                           },
"search_user_messages":
{ Args: { "p_limit": number,"p_query": string,"p_user_id": string }; Returns: {
              "active": boolean,"content": string,"conversation_id": string,"conversation_title": string,"created_at": string,"id": string,"rank": number,"role": string,"snippet": string
            }[]
                           },
"set_job_enabled":
{ Args: { "enabled": boolean,"job_name": string }; Returns: boolean
                           },
"set_model_price":
{ Args: { "cache_write_per_mtok"?: number,"cached_input_per_mtok"?: number,"effective_from": string,"input_per_mtok"?: number,"model": string,"note"?: string,"output_per_mtok"?: number,"per_audio_second"?: number,"per_request"?: number,"provider": string }; Returns: number
                           },
"set_setting":
{ Args: { "key": string,"value": Json }; Returns: Json
                           },
"set_user_quota":
{ Args: { "cost_limit"?: number,"hard"?: boolean,"quota_period": string,"request_limit"?: number,"token_limit"?: number,"user_id": string }; Returns: Json
                           },
"setting":
{ Args: { "p_key": string }; Returns: Json
                           },
"setting_text":
{ Args: { "p_key": string }; Returns: string
                           },
"settle_reservation":
{ Args: { "p_cost_usd": number,"p_request_log_id": number,"p_reservation_id": string,"p_total_tokens": number,"p_user_id": string }; Returns: undefined
                           },
"start_usage_backfill":
{ Args: { "batch_periods"?: number,"from_day": string,"to_day": string }; Returns: number
                           },
"sweep_quota_reservations":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"switch_branch":
{ Args: { "message_id": string }; Returns: Database["llm"]['CompositeTypes']["chat_message"]
                          SetofOptions: {
        from: "*"
        to: "chat_message"
        isOneToOne: true
        isSetofReturn: false
      } },
"sync_jobs":
{ Args: Record<PropertyKey, never>; Returns: {
              "command": string,"job_name": string,"schedule": string,"scheduled": boolean
            }[]
                           },
"token_count":
{ Args: { "p_field": string,"p_value": Json }; Returns: number
                           },
"try_fold_user_journal":
{ Args: { "p_max_rows": number,"p_user_id": string }; Returns: number
                           },
"try_log_requests":
{ Args: { "requests": Json }; Returns: {
              "error": string,"id": number,"item": number,"reject_id": number,"sqlstate": string
            }[]
                           },
"unpriced_models":
{ Args: { "since"?: string,"until"?: string }; Returns: {
              "first_seen": string,"last_seen": string,"model": string,"provider": string,"requests": number
            }[]
                           },
"update_chat_session":
{ Args: { "metadata"?: Json,"session_id": string,"title"?: string }; Returns: boolean
                           },
"usage_cover":
{ Args: { "p_from": string,"p_to": string }; Returns: {
              "period_start": string,"period_type": string
            }[]
                           },
"usage_folded_before":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"usage_period_bounds":
{ Args: { "p_period_start": string,"p_period_type": string }; Returns: Record<string, unknown>
                           },
"usage_period_start":
{ Args: { "p_at": string,"p_period_type": string }; Returns: string
                           },
"usage_periods":
{ Args: { "p_at": string,"p_tz": string }; Returns: {
              "period_start": string,"period_type": string
            }[]
                           },
"usage_report":
{ Args: { "max_users"?: number,"rank_by"?: string,"since"?: string,"until"?: string }; Returns: Json
                           },
"usage_totals":
{ Args: { "p_period_start": string,"p_period_type": string,"p_user_id": string }; Returns: {
              "cost_usd": number,"requests": number,"tokens": number
            }[]
                           },
"user_label":
{ Args: { "p_user_id": string }; Returns: string
                           },
"user_uuid":
{ Args: { "identifier": string }; Returns: string
                           },
"version":
{ Args: Record<PropertyKey, never>; Returns: string
                           }
          }
          Enums: {
            "request_type": "chat"|"completion"|"embedding"|"transcription"|"speech"|"image"|"moderation"|"rerank"|"other"
          }
          CompositeTypes: {
            "cache_claim": {
                        "status": string | null,"lease_id": string | null,"lease_expires_at": string | null,"hit": Json | null
                      },"cache_hit": {
                        "id": string | null,"response": string | null,"hit_count": number | null,"cached_at": string | null,"expires_at": string | null,"metadata": Json | null,"provider": string | null,"model": string | null,"scope": string | null,"prompt_tokens": number | null,"completion_tokens": number | null,"total_tokens": number | null,"cost_saved_usd": number | null
                      },"cache_stats": {
                        "provider": string | null,"model": string | null,"scope": string | null,"entries": number | null,"hits": number | null,"misses": number | null,"hit_rate": number | null,"prompt_tokens_saved": number | null,"completion_tokens_saved": number | null,"total_tokens_saved": number | null,"cost_saved_usd": number | null
                      },"chat_message": {
                        "id": string | null,"conversation_id": string | null,"user_id": string | null,"role": string | null,"content": string | null,"metadata": Json | null,"model": string | null,"prompt_tokens": number | null,"completion_tokens": number | null,"tokens": number | null,"parent_id": string | null,"seq": number | null,"active": boolean | null,"created_at": string | null
                      },"chat_session": {
                        "id": string | null,"conversation_id": string | null,"user_id": string | null,"title": string | null,"metadata": Json | null,"created_at": string | null,"updated_at": string | null,"expires_at": string | null,"archived_at": string | null,"message_count": number | null,"prompt_tokens": number | null,"completion_tokens": number | null,"total_tokens": number | null,"last_message_at": string | null,"active_leaf_id": string | null
                      },"request_batch_item": {
                        "idx": number | null,"id": number | null,"provider": string | null,"model": string | null,"request_type": string | null,"user_text": string | null,"prompt_tokens": number | null,"completion_tokens": number | null,"cached_tokens": number | null,"cost_usd": number | null,"latency_ms": number | null,"success": boolean | null,"status_code": number | null,"error_message": string | null,"cache_hit": boolean | null,"request_id": string | null,"agent_id": string | null,"metadata": Json | null,"cache_write_tokens": number | null,"total_tokens": number | null,"audio_seconds": number | null,"time_to_first_token_ms": number | null,"error_type": string | null,"message_id": string | null,"service": string | null,"operation": string | null,"request_body": Json | null,"response_body": Json | null,"reservation_id": string | null,"at": string | null,"user_is_uuid": boolean | null,"user_id": string | null,"conversation_id": string | null,"state": string | null,"price": number | null
                      },"similar_cached_prompt": {
                        "id": string | null,"prompt": string | null,"response": string | null,"similarity": number | null,"provider": string | null,"model": string | null,"parameters": Json | null,"metadata": Json | null,"scope": string | null,"hit_count": number | null,"cached_at": string | null,"expires_at": string | null
                      }
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "llm">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "llm": {
          Enums: {
            "request_type": ["chat", "completion", "embedding", "transcription", "speech", "image", "moderation", "rerank", "other"]
          }
        }
} as const
